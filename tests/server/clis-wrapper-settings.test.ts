/**
 * clis-wrapper's settings on the real app: each legacy name, read through src/legacy-env.ts as
 * main.ts reads it, changes what the running server does; CORS_ORIGINS as a JSON list.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type TestStack } from '../helpers/server.js';
import { applyLegacyEnv } from '../../src/legacy-env.js';

/** the overrides startStack gets: the legacy names applied, as main.ts applies them before loadConfig */
function legacy(env: Record<string, string>): Record<string, string> {
  return applyLegacyEnv({ RATE_LIMIT_ENABLED: 'true', ...env }).env as Record<string, string>;
}

const statuses = async (n: number, url: string, init: RequestInit = {}) => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await fetch(url, init)).status);
  return out;
};

describe('clis-wrapper names on the running server', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack(
      legacy({
        RATE_LIMIT_PER_MINUTE: '2',
        RATE_LIMIT_AUTH_PER_MINUTE: '1',
        RATE_LIMIT_DEBUG_PER_MINUTE: '1',
        DEBUG_MODE: 'true',
        // startStack's own LOG_LEVEL=silent would win (a set cligate name wins): empty is "not set"
        LOG_LEVEL: '',
        CORS_ORIGINS: '["http://allowed.example","http://also.example"]',
      }),
    );
  });
  afterAll(() => stack?.close());

  it('RATE_LIMIT_PER_MINUTE=2: the third model list in a minute is refused with 429', async () => {
    expect(await statuses(3, `${stack.url}/v1/models`)).toEqual([200, 200, 429]);
    const refused = await fetch(`${stack.url}/v1/models`);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('too_many_requests');
  });

  it('RATE_LIMIT_AUTH_PER_MINUTE=1: the second GET /v1/auth/status is refused with 429', async () => {
    expect(await statuses(2, `${stack.url}/v1/auth/status`)).toEqual([200, 429]);
  });

  it('DEBUG_MODE=true serves /v1/debug/request; RATE_LIMIT_DEBUG_PER_MINUTE=1 refuses the second', async () => {
    const first = await fetch(`${stack.url}/v1/debug/request?model=claude-sonnet-4-5`);
    expect(first.status).toBe(200);
    expect(((await first.json()) as { route: { targets: { provider: string }[] } }).route.targets[0]!.provider).toBe('claude-cli');
    expect((await fetch(`${stack.url}/v1/debug/request?model=claude-sonnet-4-5`)).status).toBe(429);
  });

  it('CORS_ORIGINS as a JSON list: each listed origin is allowed, others are not', async () => {
    const ask = (origin: string) => fetch(`${stack.url}/health`, { headers: { origin } });
    expect((await ask('http://allowed.example')).headers.get('access-control-allow-origin')).toBe('http://allowed.example');
    expect((await ask('http://also.example')).headers.get('access-control-allow-origin')).toBe('http://also.example');
    expect((await ask('http://other.example')).headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('without the legacy names', () => {
  it('no debug endpoint (404 like an unknown route) and the default limits', async () => {
    const stack = await startStack({ RATE_LIMIT_ENABLED: 'true', LOG_LEVEL: 'info' });
    try {
      const res = await fetch(`${stack.url}/v1/debug/request?model=claude-sonnet-4-5`);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unknown_url');
      expect(await statuses(3, `${stack.url}/v1/models`)).toEqual([200, 200, 200]);
    } finally {
      await stack.close();
    }
  });
});
