/**
 * The server as `npm start` runs it, logging JSON to a pipe: one line per request with
 * the request id (taken from X-Request-ID or generated, echoed back), dialect, model,
 * provider, account id, status, duration and tokens, and no secret anywhere in the log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawnServer, type ServerProcess } from '../helpers/server-process.js';
import { startFakeKiro, type FakeKiro, kiroEnv } from '../fakes/kiro.js';

let fake: FakeKiro;
let server: ServerProcess;
let home: string;
const SECRETS = { API_KEY: 'sk-log-secret-1', ADMIN_PASSWORD: 'admin-log-secret-2', refresh: 'rt-log-secret-3' };

beforeAll(async () => {
  fake = await startFakeKiro([{ refresh_token: SECRETS.refresh, auth_method: 'social' }]);
  home = await mkdtemp(path.join(os.tmpdir(), 'cligate-log-home-'));
  const dataDir = path.join(home, 'data');
  await import('node:fs/promises').then((fs) => fs.mkdir(dataDir, { recursive: true }));
  await writeFile(path.join(dataDir, 'accounts.json'), JSON.stringify({ accounts: [{ id: 'kiro-log', provider: 'kiro', credentials: { refresh_token: SECRETS.refresh, auth_method: 'social' } }] }));
  server = await spawnServer({
    HOME: home,
    API_KEY: SECRETS.API_KEY,
    ADMIN_PASSWORD: SECRETS.ADMIN_PASSWORD,
    ...kiroEnv(fake),
    PATH: process.env.PATH ?? '',
  });
}, 60_000);
afterAll(async () => {
  server?.child.kill('SIGTERM');
  await server?.exited;
  await fake?.close();
  await rm(home, { recursive: true, force: true });
});

const lines = () =>
  server
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('request log', () => {
  it('one JSON line per request with id, dialect, model, provider, account, status, duration and tokens', async () => {
    const r = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SECRETS.API_KEY}`, 'content-type': 'application/json', 'x-request-id': 'trace-abc.123' },
      body: JSON.stringify({ model: 'claude-sonnet-4.5', messages: [{ role: 'user', content: 'log me' }] }),
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-request-id')).toBe('trace-abc.123');
    // a generated id for a request without one (and for an id that is not safe to log)
    const anon = await fetch(`${server.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': SECRETS.API_KEY, 'content-type': 'application/json', 'x-request-id': 'bad id <script>' },
      body: JSON.stringify({ model: 'claude-sonnet-4.5', max_tokens: 20, messages: [{ role: 'user', content: 'log me too' }] }),
    });
    const generated = anon.headers.get('x-request-id');
    await fetch(`${server.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: SECRETS.ADMIN_PASSWORD }) });
    await fetch(`${server.url}/v1/models`, { headers: { authorization: 'Bearer wrong-key' } });
    await new Promise((res) => setTimeout(res, 300));

    const requests = lines().filter((l) => l.msg === 'request');
    const first = requests.find((l) => l.requestId === 'trace-abc.123');
    expect(first).toMatchObject({ dialect: 'openai', model: 'claude-sonnet-4.5', provider: 'kiro', account: 'kiro-log', status: 200, method: 'POST', path: '/v1/chat/completions' });
    expect(first!.durationMs).toEqual(expect.any(Number));
    expect(first!.tokensIn).toBeGreaterThan(0);
    expect(first!.tokensOut).toBeGreaterThan(0);
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    expect(requests.find((l) => l.requestId === generated)).toMatchObject({ dialect: 'anthropic', provider: 'kiro', status: 200 });
    expect(requests.filter((l) => l.requestId === 'trace-abc.123')).toHaveLength(1);
    expect(requests.find((l) => l.path === '/v1/models')).toMatchObject({ status: 401, error: 'invalid_api_key' });
    // not one secret in the whole log
    const all = server.output();
    for (const s of Object.values(SECRETS)) expect(all.includes(s), s).toBe(false);
  });
});
