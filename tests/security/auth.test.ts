/**
 * Every route, checked without credentials, with wrong ones and with the right ones, in
 * each way a client may present them; the refusals are 401s in the route's dialect.
 * Public routes stay public. (The run log is scanned for secrets at the end of the run:
 * tests/global-setup.ts; its patterns are checked here.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type TestStack } from '../helpers/server.js';
import { errorShape, type Dialect } from '../helpers/dialects.js';
import { fetchJson } from '../helpers/net.js';
import { SECRET_PATTERNS } from '../global-setup.js';
import { maskSecret } from '../../src/accounts/mask.js';

const KEY = 'sk-auth-matrix-key';
const PASSWORD = 'admin-pass-matrix';
let stack: TestStack;
let adminToken = '';

beforeAll(async () => {
  stack = await startStack({ API_KEY: KEY, ADMIN_PASSWORD: PASSWORD, INTERNAL_API_KEY: 'internal-secret-matrix', RATE_LIMIT_ENABLED: 'false' });
  adminToken = ((await (await fetch(`${stack.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: PASSWORD }) })).json()) as any).token;
});
afterAll(async () => {
  await stack?.close();
});

const chatBody = { model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] };
const geminiBody = { contents: [{ role: 'user', parts: [{ text: 'x' }] }] };

/** [method, path, body, dialect of its errors] */
const API_ROUTES: [string, string, unknown, Dialect][] = [
  ['GET', '/v1/models', undefined, 'openai'],
  ['GET', '/v1/models/claude-sonnet-4-5', undefined, 'openai'],
  ['GET', '/v1/auth/status', undefined, 'openai'],
  ['POST', '/v1/chat/completions', chatBody, 'openai'],
  ['POST', '/v1/messages', { ...chatBody, max_tokens: 5 }, 'anthropic'],
  ['POST', '/v1/responses', { model: 'no-such-model', input: 'x' }, 'responses'],
  ['GET', '/v1/responses/resp_unknown', undefined, 'responses'],
  ['DELETE', '/v1/responses/resp_unknown', undefined, 'responses'],
  ['POST', '/v1/messages/count_tokens', chatBody, 'anthropic'],
  ['GET', '/v1beta/models', undefined, 'gemini'],
  ['GET', '/v1beta/models/gemini-2.5-pro', undefined, 'gemini'],
  ['POST', '/v1beta/models/no-such-model:generateContent', geminiBody, 'gemini'],
  ['POST', '/v1beta/models/no-such-model:streamGenerateContent?alt=sse', geminiBody, 'gemini'],
  ['POST', '/v1beta/models/no-such-model:countTokens', geminiBody, 'gemini'],
  ['POST', '/api/ai/generate', { model: 'no-such-model', ...geminiBody }, 'gemini'],
  ['POST', '/api/ai/generate-stream', { model: 'no-such-model', ...geminiBody }, 'gemini'],
  ['POST', '/api/ai/count-tokens', { model: 'no-such-model', ...geminiBody }, 'gemini'],
  ['POST', '/api/ai/embed', {}, 'gemini'],
  ['GET', '/account-limits', undefined, 'openai'],
  ['GET', '/metrics', undefined, 'openai'],
];

const ADMIN_ROUTES: [string, string, unknown][] = [
  ['GET', '/api/accounts', undefined],
  ['POST', '/api/accounts', { provider: 'kiro', credentials: { refresh_token: 'rt-matrix' } }],
  ['GET', '/api/accounts/business-1', undefined],
  ['PATCH', '/api/accounts/business-1', { weight: 5 }],
  ['POST', '/api/accounts/business-1/test', undefined],
  ['GET', '/api/models', undefined],
  ['PUT', '/api/models/kiro', { models: ['claude-sonnet-4.5'] }],
  ['PUT', '/api/models/aliases/quick', { target: 'claude-cli/claude-sonnet-4-5' }],
  ['GET', '/api/config', undefined],
  ['POST', '/api/proxy/test', {}],
  ['GET', '/api/pool', undefined],
  ['GET', '/api/limits', undefined],
  ['GET', '/api/usage', undefined],
  ['GET', '/api/history', undefined],
  ['DELETE', '/api/accounts/nobody', undefined],
  ['GET', '/api/keys', undefined],
  ['POST', '/api/keys', { name: 'matrix-admin-made' }],
  ['GET', '/api/keys/key_00000000', undefined],
  ['PATCH', '/api/keys/key_00000000', { enabled: false }],
  ['POST', '/api/keys/key_00000000/revoke', undefined],
  ['GET', '/api/keys/key_00000000/usage', undefined],
  ['DELETE', '/api/keys/key_00000000', undefined],
];

async function call(method: string, p: string, body: unknown, headers: Record<string, string> = {}, query = '') {
  const url = `${stack.url}${p}${query ? `${p.includes('?') ? '&' : '?'}${query}` : ''}`;
  return fetchJson(url, { method, headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
}

describe('API routes: API_KEY', () => {
  const ways: [string, (k: string) => [Record<string, string>, string]][] = [
    ['Authorization: Bearer', (k) => [{ authorization: `Bearer ${k}` }, '']],
    ['x-api-key', (k) => [{ 'x-api-key': k }, '']],
    ['x-goog-api-key', (k) => [{ 'x-goog-api-key': k }, '']],
    ['?key=', (k) => [{}, `key=${encodeURIComponent(k)}`]],
  ];

  it.each(API_ROUTES)('%s %s: 401 without or with a wrong key (in its dialect), through with the right one', async (method, p, body, dialect) => {
    const none = await call(method, p, body);
    expect(none.status).toBe(401);
    expect(errorShape(dialect, none.json)).toBeUndefined();
    for (const [, way] of ways) {
      for (const wrong of ['wrong', `${KEY}x`, KEY.slice(0, -1), '', ' ']) {
        const [h, q] = way(wrong);
        const r = await call(method, p, body, h, q);
        expect(r.status, `${p} ${JSON.stringify(h)} ${q}`).toBe(401);
      }
      const [h, q] = way(KEY);
      const ok = await call(method, p, body, h, q);
      expect([401, 403], `${p} with ${JSON.stringify(h)} ${q}`).not.toContain(ok.status);
    }
  });

  it('public routes answer without a key', async () => {
    expect((await call('GET', '/health', undefined)).status).toBe(200);
    expect((await call('GET', '/', undefined)).status).toBe(200);
    expect((await call('GET', '/admin/', undefined)).status).toBe(200);
    expect((await call('GET', '/image/0000000000000000000000000000000000000000000000000000000000000000.png', undefined)).status).toBe(404);
  });

  it('per-request accounts need the internal key: none, wrong and right', async () => {
    const headers = { authorization: `Bearer ${KEY}`, 'x-kiro-refresh-token': 'rt-matrix-header' };
    const body = { model: 'claude-sonnet-4.5', messages: [{ role: 'user', content: 'x' }] };
    const none = await call('POST', '/v1/chat/completions', body, headers);
    expect(none.status).toBe(401);
    expect((none.json as any).error.code).toBe('invalid_internal_api_key');
    expect((await call('POST', '/v1/chat/completions', body, { ...headers, 'x-internal-api-key': 'internal-secret-matrix-' })).status).toBe(401);
    // right key: past auth (the fake-less Kiro endpoint then fails upstream, not with 401 invalid_internal_api_key)
    const ok = await call('POST', '/v1/chat/completions', body, { ...headers, 'x-internal-api-key': 'internal-secret-matrix' });
    expect((ok.json as any)?.error?.code).not.toBe('invalid_internal_api_key');
  });
});

describe('API routes: client keys', () => {
  /** a key in each state: usable, revoked, expired, disabled, limited to other models, over its request limit */
  const keys: Record<'valid' | 'revoked' | 'expired' | 'disabled' | 'scoped' | 'limited', string> = {} as any;
  const admin = async (method: string, p: string, body?: unknown) => (await call(method, `/api${p}`, body, { authorization: `Bearer ${adminToken}` })).json as any;
  const make = async (name: string, extra: Record<string, unknown> = {}) => admin('POST', '/keys', { name, ...extra });
  beforeAll(async () => {
    for (const state of ['valid', 'revoked', 'disabled', 'scoped', 'limited', 'expired'] as const) {
      const made = await make(`matrix-${state}`, { ...(state === 'scoped' ? { models: ['nothing-like-it-*'] } : {}), ...(state === 'limited' ? { limits: { requestsPerMinute: 1 } } : {}), ...(state === 'expired' ? { expiresAt: Date.now() + 800 } : {}) });
      keys[state] = made.secret;
      if (state === 'revoked') await admin('POST', `/keys/${made.key.id}/revoke`);
      if (state === 'disabled') await admin('PATCH', `/keys/${made.key.id}`, { enabled: false });
    }
    await new Promise((r) => setTimeout(r, 900));
    // the limited key's one request of this minute
    await call('POST', '/v1/chat/completions', chatBody, { authorization: `Bearer ${keys.limited}` });
  });

  const ways: [string, (k: string) => [Record<string, string>, string]][] = [
    ['Authorization: Bearer', (k) => [{ authorization: `Bearer ${k}` }, '']],
    ['x-api-key', (k) => [{ 'x-api-key': k }, '']],
    ['x-goog-api-key', (k) => [{ 'x-goog-api-key': k }, '']],
    ['?key=', (k) => [{}, `key=${encodeURIComponent(k)}`]],
  ];
  /** the routes a chat request goes through: model scopes and request limits apply there */
  const isChat = (method: string, p: string) => method === 'POST' && /\/chat\/completions|\/messages$|\/responses$|:generateContent|:streamGenerateContent|\/api\/ai\/generate/.test(p);

  let lastMinute = Math.floor(Date.now() / 60_000);
  it.each(API_ROUTES)('%s %s: each way × valid / revoked / expired / disabled / wrong model / over limit', async (method, p, body, dialect) => {
    const masterOnly = p === '/metrics';
    for (const [way, present] of ways) {
      const at = `${method} ${p} via ${way}`;
      const send = (k: string) => {
        const [headers, query] = present(k);
        return call(method, p, body, headers, query);
      };
      const valid = await send(keys.valid);
      if (masterOnly) expect(valid.status, at).toBe(401);
      else expect([401, 403, 429], `${at}: ${JSON.stringify(valid.json)}`).not.toContain(valid.status);
      for (const state of ['revoked', 'expired', 'disabled'] as const) {
        const r = await send(keys[state]);
        expect(r.status, `${at} ${state}`).toBe(401);
        expect(errorShape(dialect, r.json), `${at} ${state}`).toBeUndefined();
        // the message names the key and why (OpenAI's shape also carries the code)
        if (!masterOnly) expect(JSON.stringify(r.json), `${at} ${state}`).toContain(`('matrix-${state}') ${{ revoked: 'was revoked', expired: 'expired at', disabled: 'is disabled' }[state]}`);
        if (!masterOnly && dialect === 'openai') expect((r.json as any).error.code).toBe(`api_key_${state}`);
      }
      const scoped = await send(keys.scoped);
      const minute = Math.floor(Date.now() / 60_000);
      let limited = await send(keys.limited);
      // a new minute opened the window again: that one request is the new minute's one
      if (limited.status !== 429 && isChat(method, p) && Math.floor(Date.now() / 60_000) !== lastMinute) limited = await send(keys.limited);
      lastMinute = minute;
      if (masterOnly) {
        expect([scoped.status, limited.status], at).toEqual([401, 401]);
      } else if (isChat(method, p)) {
        expect(scoped.status, `${at} scoped: ${JSON.stringify(scoped.json)}`).toBe(403);
        expect(errorShape(dialect, scoped.json), at).toBeUndefined();
        expect(JSON.stringify(scoped.json)).toContain("may not use model 'no-such-model'");
        expect(limited.status, `${at} limited`).toBe(429);
        expect(errorShape(dialect, limited.json), at).toBeUndefined();
        expect(Number(limited.headers.get('retry-after')), at).toBeGreaterThan(0);
      } else {
        // model lists, counts, stored responses: the key's state matters, its model list and request limit do not
        expect([401, 403, 429], `${at} scoped`).not.toContain(scoped.status);
        expect([401, 403, 429], `${at} limited`).not.toContain(limited.status);
      }
    }
  });

  it('with keys in the store, the master API_KEY still opens every route and a made-up cg- key does not', async () => {
    expect((await call('GET', '/v1/models', undefined, { authorization: `Bearer ${KEY}` })).status).toBe(200);
    expect((await call('GET', '/metrics', undefined, { authorization: `Bearer ${KEY}` })).status).toBe(200);
    const forged = await call('GET', '/v1/models', undefined, { authorization: `Bearer cg-${'A'.repeat(43)}` });
    expect(forged.status).toBe(401);
    expect((forged.json as any).error.code).toBe('invalid_api_key');
  });
});

describe('admin routes: ADMIN_PASSWORD session', () => {
  it.each(ADMIN_ROUTES)('%s %s: 401 without, with the API key, with a wrong or forged token; through with the session', async (method, p, body) => {
    const none = await call(method, p, body);
    expect(none.status).toBe(401);
    expect(errorShape('openai', none.json)).toBeUndefined();
    // the API key is not an admin credential
    expect((await call(method, p, body, { authorization: `Bearer ${KEY}` })).status).toBe(401);
    for (const bad of ['x', `${adminToken}x`, adminToken.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')), `v1.${Date.now() + 1e9}.AAAAAAAAAAAAAAAAAAAAAA.${'A'.repeat(43)}`]) {
      expect((await call(method, p, body, { authorization: `Bearer ${bad}` })).status, bad).toBe(401);
      expect((await call(method, p, body, { cookie: `cligate_admin=${bad}` })).status, bad).toBe(401);
    }
    const ok = await call(method, p, body, { authorization: `Bearer ${adminToken}` });
    expect([401, 403]).not.toContain(ok.status);
  });

  it('the admin password is not an API key, and not a session token', async () => {
    expect((await call('GET', '/v1/models', undefined, { authorization: `Bearer ${PASSWORD}` })).status).toBe(401);
    expect((await call('GET', '/api/accounts', undefined, { authorization: `Bearer ${PASSWORD}` })).status).toBe(401);
  });
});

describe('secret scan patterns', () => {
  it('catch the secrets the tests use, and leave masked forms and ordinary words alone', () => {
    const caught = [`cg-${'x'.repeat(43)}`, 'sk-auth-matrix-key', 'rt-admin-one', 'rt-x-one~8d6738f1', 'CSE.one-secret-cookie', 'admin-pass-matrix', 'internal-secret-matrix'];
    for (const s of caught) expect(SECRET_PATTERNS.some((p) => p.test(`"msg":"x ${s} y"`)), s).toBe(true);
    const fine = [maskSecret('rt-admin-one'), maskSecret('sk-auth-matrix-key'), 'start-up', 'task-list', 'kiro-one', 'smart-tokens', 'cg-AbCd…'];
    for (const s of fine) expect(SECRET_PATTERNS.some((p) => p.test(s)), s).toBe(false);
  });
});
