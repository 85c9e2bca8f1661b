/**
 * The admin API end to end, against a running cligate with Kiro accounts behind a fake
 * Kiro: login and sessions (cookie, Bearer, CSRF, logout, forged tokens), every endpoint
 * without credentials (401) and with bad input (400), accounts CRUD with masking, a real
 * credential test, models and aliases, config export/import, the proxy check, pool
 * state, usage accounting and history; admin off without a password.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { startStack, type TestStack } from '../helpers/server.js';
import { dataDirWithStore, kiroSocial } from '../helpers/accounts.js';
import { startFakeKiro, type FakeKiro, kiroEnv } from '../fakes/kiro.js';
import { startForwardProxy, type ForwardProxy } from '../fakes/forward-proxy.js';
import { fetchJson } from '../helpers/net.js';

const PASSWORD = 'admin-pass-7c1f';
const SECRETS = ['rt-admin-one', 'rt-admin-two', 'rt-added-by-api', PASSWORD];

let fake: FakeKiro;
let stack: TestStack;
let dataDir: string;
let proxy: ForwardProxy;
let target: http.Server;
let targetUrl: string;
/** every admin response body except the export, scanned for secrets at the end */
const seen: string[] = [];

async function call(method: string, p: string, opts: { body?: unknown; token?: string; cookie?: string; csrf?: string; raw?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.cookie) headers.cookie = opts.cookie;
  if (opts.csrf) headers['x-csrf-token'] = opts.csrf;
  if (opts.body !== undefined || opts.raw !== undefined) headers['content-type'] = 'application/json';
  const res = await fetchJson(`${stack.url}/api${p}`, { method, headers, body: method === 'GET' ? undefined : (opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body))) });
  if (p !== '/config' || method !== 'GET') seen.push(res.text);
  return res;
}

let token = '';
const as = (body?: unknown) => ({ token, ...(body === undefined ? {} : { body }) });

beforeAll(async () => {
  fake = await startFakeKiro([
    { refresh_token: 'rt-admin-one', auth_method: 'social' },
    { refresh_token: 'rt-admin-two', auth_method: 'social' },
    { refresh_token: 'rt-added-by-api', auth_method: 'social' },
  ]);
  proxy = await startForwardProxy();
  target = http.createServer((_req, res) => res.writeHead(204).end());
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}/generate_204`;
  const [one, two] = kiroSocial({ 'kiro-one': 'rt-admin-one', 'kiro-two': 'rt-admin-two' });
  dataDir = await dataDirWithStore('admin', { accounts: [{ ...one, label: 'first' }, two] });
  stack = await startStack({
    DATA_DIR: dataDir,
    ADMIN_PASSWORD: PASSWORD,
    API_KEY: 'client-key-1',
    ...kiroEnv(fake),
    PROXY_TEST_URL: targetUrl,
    ACCOUNT_COOLDOWN_BASE: '60',
    HISTORY_MAX_CHARS: '200',
  });
  const login = await call('POST', '/login', { body: { password: PASSWORD } });
  expect(login.status).toBe(200);
  token = login.json.token;
});
afterAll(async () => {
  await stack?.close();
  await fake?.close();
  await proxy?.close();
  target?.closeAllConnections();
  await new Promise((r) => target?.close(r));
  await rm(dataDir, { recursive: true, force: true });
});

const ENDPOINTS: [string, string][] = [
  ['GET', '/accounts'],
  ['POST', '/accounts'],
  ['GET', '/accounts/kiro-one'],
  ['PATCH', '/accounts/kiro-one'],
  ['DELETE', '/accounts/kiro-one'],
  ['POST', '/accounts/kiro-one/test'],
  ['GET', '/models'],
  ['PUT', '/models/kiro'],
  ['DELETE', '/models/kiro'],
  ['PUT', '/models/aliases/fast'],
  ['DELETE', '/models/aliases/fast'],
  ['GET', '/config'],
  ['PUT', '/config'],
  ['POST', '/proxy/test'],
  ['GET', '/pool'],
  ['GET', '/usage'],
  ['GET', '/history'],
  ['GET', '/history/some-id'],
  ['POST', '/logout'],
];

describe('admin authentication', () => {
  it('every endpoint is 401 without credentials, with a wrong token and with a forged one', async () => {
    const forged = `${token.slice(0, -4)}AAAA`;
    const otherInstall = 'v1.9999999999999.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    for (const [method, p] of ENDPOINTS) {
      const none = await call(method, p, { body: {} });
      expect(none.status, `${method} ${p}`).toBe(401);
      expect(none.json.error.code).toBe('admin_login_required');
      for (const bad of ['nope', forged, otherInstall]) {
        const r = await call(method, p, { token: bad, body: {} });
        expect(r.status, `${method} ${p} ${bad}`).toBe(401);
        expect(r.json.error).toMatchObject({ type: 'authentication_error', code: 'admin_session_invalid' });
      }
    }
  });

  it('login: wrong password 401, bad body 400, right one gives an HttpOnly SameSite=Strict cookie and a Bearer token', async () => {
    expect((await call('POST', '/login', { body: { password: 'wrong' } })).json.error.code).toBe('admin_password_invalid');
    const bad = await call('POST', '/login', { body: { password: 5 } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toMatch(/password/);
    expect((await call('POST', '/login', { raw: '{"password":' })).status).toBe(400);
    const ok = await call('POST', '/login', { body: { password: PASSWORD } });
    const cookie = ok.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^cligate_admin=v1\./);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(ok.json.token).toMatch(/^v1\./);
    expect((await call('GET', '/accounts', { token: ok.json.token })).status).toBe(200);
  });

  it('a cookie session reads freely but changes nothing without the CSRF token; Bearer needs none', async () => {
    const ok = await call('POST', '/login', { body: { password: PASSWORD } });
    const cookie = `cligate_admin=${ok.json.token}`;
    const session = await call('GET', '/session', { cookie });
    expect(session.json).toMatchObject({ authenticated: true, via: 'cookie', csrf: ok.json.csrf });
    expect((await call('GET', '/accounts', { cookie })).status).toBe(200);
    const noCsrf = await call('PATCH', '/accounts/kiro-two', { cookie, body: { weight: 7 } });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.json.error.code).toBe('csrf_token_invalid');
    expect((await call('PATCH', '/accounts/kiro-two', { cookie, csrf: 'x'.repeat(43), body: { weight: 7 } })).status).toBe(403);
    const withCsrf = await call('PATCH', '/accounts/kiro-two', { cookie, csrf: ok.json.csrf, body: { weight: 7 } });
    expect(withCsrf.status).toBe(200);
    expect(withCsrf.json.weight).toBe(7);
    expect((await call('PATCH', '/accounts/kiro-two', { token: ok.json.token, body: { weight: 100 } })).json.weight).toBe(100);
  });

  it('logout ends the session; the admin API sends no CORS headers and is never cached', async () => {
    const ok = await call('POST', '/login', { body: { password: PASSWORD } });
    expect((await call('POST', '/logout', { token: ok.json.token })).status).toBe(200);
    expect((await call('GET', '/accounts', { token: ok.json.token })).status).toBe(401);
    const r = await call('GET', '/accounts', { token, headers: { origin: 'https://evil.example' } });
    expect(r.headers.get('access-control-allow-origin')).toBeNull();
    expect(r.headers.get('cache-control')).toBe('no-store');
  });
});

describe('accounts', () => {
  it('lists masked accounts with their pool state', async () => {
    const r = await call('GET', '/accounts?provider=kiro', as());
    expect(r.status).toBe(200);
    expect(r.json.providers).toEqual(expect.arrayContaining(['kiro', 'cloudcode', 'gemini-enterprise']));
    const one = r.json.accounts.find((a: any) => a.id === 'kiro-one');
    expect(one.credentials.refresh_token).toBe('rt-…one');
    expect(one.state).toMatchObject({ usable: true, failures: 0 });
    expect((await call('GET', '/accounts?provider=nope', as())).status).toBe(404);
  });

  it('creates, reads, edits (masked values kept), disables and deletes; bad input is a 400 naming the field', async () => {
    const created = await call('POST', '/accounts', as({ id: 'kiro-new', provider: 'kiro', label: 'added', weight: 50, credentials: { refresh_token: 'rt-added-by-api', auth_method: 'social' } }));
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ id: 'kiro-new', provider: 'kiro', weight: 50, enabled: true, credentials: { refresh_token: 'rt-…api' } });
    expect((await call('POST', '/accounts', as({ id: 'kiro-new', provider: 'kiro', credentials: { refresh_token: 'x' } }))).status).toBe(409);
    const generated = await call('POST', '/accounts', as({ provider: 'cloudcode', credentials: { refresh_token: 'rt-cloud-xyz' } }));
    expect(generated.json.id).toMatch(/^cloudcode-[0-9a-f]{8}$/);

    const bad: [unknown, RegExp][] = [
      [{ provider: 'kiro' }, /credentials/],
      [{ provider: 'kiro', credentials: {} }, /at least one credential/],
      [{ provider: 'kiro', weight: -1, credentials: { a: 'b' } }, /weight/],
      [{ provider: 'kiro', weight: 'heavy', credentials: { a: 'b' } }, /weight/],
      [{ provider: 'no-such', credentials: { a: 'b' } }, /no-such/],
      [{ provider: 'kiro', id: '../etc/passwd', credentials: { a: 'b' } }, /id/],
      [{ provider: 'kiro', proxy: 'not a url', credentials: { a: 'b' } }, /proxy/],
      [{ provider: 'kiro', credentials: { a: 'b' }, extra: 1 }, /extra/],
      [{ provider: 'kiro', credentials: { 'bad name!': 'b' } }, /credentials/],
      [[1, 2], /body|expected object/],
    ];
    for (const [body, why] of bad) {
      const r = await call('POST', '/accounts', as(body));
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error.type).toBe('invalid_request_error');
      expect(r.json.error.message, JSON.stringify(body)).toMatch(why);
    }

    const read = await call('GET', '/accounts/kiro-new', as());
    // the list's masked value sent back keeps the secret; a new label and weight apply
    const edited = await call('PATCH', '/accounts/kiro-new', as({ label: 'renamed', weight: 10, credentials: { ...read.json.credentials } }));
    expect(edited.json).toMatchObject({ label: 'renamed', weight: 10 });
    const stored = JSON.parse(await readFile(path.join(dataDir, 'accounts.json'), 'utf8'));
    expect(stored.accounts.find((a: any) => a.id === 'kiro-new').credentials.refresh_token).toBe('rt-added-by-api');
    expect((await call('PATCH', '/accounts/kiro-new', as({ weight: 2.5 }))).status).toBe(400);
    expect((await call('PATCH', '/accounts/kiro-new', as({ id: 'other' }))).status).toBe(400);
    expect((await call('PATCH', '/accounts/kiro-new', as({ enabled: false }))).json.enabled).toBe(false);
    expect((await call('PATCH', '/accounts/missing', as({ enabled: false }))).status).toBe(404);
    expect((await call('DELETE', `/accounts/${generated.json.id}`, as())).json).toEqual({ deleted: generated.json.id });
    expect((await call('GET', `/accounts/${generated.json.id}`, as())).status).toBe(404);
    expect((await call('DELETE', '/accounts/missing', as())).status).toBe(404);
  });

  it('test: a good account refreshes at the fake Kiro; a bad refresh token is rejected and leaves rotation', async () => {
    const refreshes = fake.count('/refreshToken');
    const ok = await call('POST', '/accounts/kiro-one/test', as());
    expect(ok.json).toMatchObject({ id: 'kiro-one', ok: true });
    expect(ok.json.detail).toMatch(/token refreshed/);
    expect(fake.count('/refreshToken')).toBe(refreshes + 1);

    await call('POST', '/accounts', as({ id: 'kiro-bad', provider: 'kiro', credentials: { refresh_token: 'rt-unknown-to-kiro', auth_method: 'social' } }));
    const bad = await call('POST', '/accounts/kiro-bad/test', as());
    expect(bad.json).toMatchObject({ ok: false, status: 401 });
    expect(bad.json.account.disabledReason).toMatch(/rejected/);
    expect(bad.json.account.state.usable).toBe(false);
    // fixing the credentials puts it back
    const fixed = await call('PATCH', '/accounts/kiro-bad', as({ credentials: { refresh_token: 'rt-admin-two', auth_method: 'social' } }));
    expect(fixed.json.disabledReason).toBeUndefined();
    expect((await call('POST', '/accounts/kiro-bad/test', as())).json.ok).toBe(true);
    await call('DELETE', '/accounts/kiro-bad', as());
    expect((await call('POST', '/accounts/missing/test', as())).status).toBe(404);
  });
});

describe('models and aliases', () => {
  it('model lists of pool providers are editable and take effect; CLI lists are not', async () => {
    const r = await call('GET', '/models', as());
    expect(r.json.providers.find((p: any) => p.id === 'claude-cli')).toMatchObject({ kind: 'cli', editable: false });
    expect((await call('PUT', '/models/kiro', as({ models: ['claude-sonnet-4.5', 'claude-haiku-4.5'] }))).status).toBe(200);
    const openai = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'client-key-1' });
    const ids = (await openai.models.list()).data.map((m) => m.id);
    expect(ids).toContain('kiro/claude-haiku-4.5');
    expect(ids).not.toContain('kiro/claude-opus-4.5');
    for (const body of [{ models: [] }, { models: ['a b'] }, { models: ['x', 'x'] }, { list: ['x'] }]) expect((await call('PUT', '/models/kiro', as(body))).status, JSON.stringify(body)).toBe(400);
    expect((await call('PUT', '/models/claude-cli', as({ models: ['x'] }))).status).toBe(404);
    expect((await call('DELETE', '/models/kiro', as())).json.reset).toBe(true);
  });

  it('an alias routes at once, is stored, and must point at a model that routes', async () => {
    const set = await call('PUT', '/models/aliases/fast', as({ target: 'kiro/claude-sonnet-4.5' }));
    expect(set.json).toMatchObject({ alias: 'fast', provider: 'kiro' });
    const openai = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'client-key-1' });
    const reply = await openai.chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'alias check' }] });
    expect(reply.choices[0]!.message.content).toMatch(/Kiro says/);
    expect(JSON.parse(await readFile(path.join(dataDir, 'accounts.json'), 'utf8')).aliases).toEqual({ fast: 'kiro/claude-sonnet-4.5' });
    const bad = await call('PUT', '/models/aliases/x', as({ target: 'no-such-model' }));
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toMatch(/does not route/);
    expect((await call('PUT', '/models/aliases/x', as({ target: 'x' }))).status).toBe(400);
    expect((await call('PUT', '/models/aliases/x', as({}))).status).toBe(400);
    expect((await call('PUT', `/models/aliases/${encodeURIComponent('a b')}`, as({ target: 'kiro/claude-sonnet-4.5' }))).status).toBe(400);
    expect((await call('DELETE', '/models/aliases/fast', as())).status).toBe(200);
    expect((await call('DELETE', '/models/aliases/fast', as())).status).toBe(404);
  });
});

describe('configuration', () => {
  it('export carries the secrets; import validates, replaces atomically and keeps the file parseable', async () => {
    const exp = await call('GET', '/config', as());
    expect(exp.headers.get('content-disposition')).toMatch(/attachment; filename="cligate-config-/);
    expect(exp.json.store.accounts.find((a: any) => a.id === 'kiro-one').credentials.refresh_token).toBe('rt-admin-one');

    const file = path.join(dataDir, 'accounts.json');
    const before = await readFile(file, 'utf8');
    const bad: [unknown, RegExp][] = [
      [{ store: { accounts: [{ id: 'a', provider: 'kiro', weight: 'x' }] } }, /accounts\.0\.weight/],
      [{ store: { accounts: [{ id: 'a', provider: 'nowhere', credentials: {} }] } }, /accounts\.0\.provider/],
      [{ store: { accounts: [{ id: 'a', provider: 'kiro' }, { id: 'a', provider: 'kiro' }] } }, /appears twice/],
      [{ store: { proxy: 5 } }, /proxy/],
      ['just a string', /configuration/],
    ];
    for (const [body, why] of bad) {
      const r = await call('PUT', '/config', as(body));
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error.message).toMatch(why);
    }
    expect(await readFile(file, 'utf8')).toBe(before);

    const next = structuredClone(exp.json);
    next.store.accounts = next.store.accounts.filter((a: any) => a.id !== 'kiro-new');
    next.store.aliases = { quick: 'kiro/claude-sonnet-4.5' };
    const imported = await call('PUT', '/config', as(next));
    expect(imported.json).toMatchObject({ imported: true, accounts: next.store.accounts.length, aliases: 1 });
    const after = JSON.parse(await readFile(file, 'utf8'));
    expect(after.accounts.map((a: any) => a.id)).not.toContain('kiro-new');
    expect((await call('GET', '/models', as())).json.aliases.stored).toEqual({ quick: 'kiro/claude-sonnet-4.5' });
    expect((await readdir(dataDir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('proxy test goes through the given or configured proxy; none configured is a 400', async () => {
    const none = await call('POST', '/proxy/test', as({}));
    expect(none.status).toBe(400);
    expect(none.json.error.code).toBe('no_proxy');
    const before = proxy.tunnels.length + proxy.plain.length;
    const r = await call('POST', '/proxy/test', as({ proxy: proxy.url }));
    expect(r.json).toMatchObject({ ok: true, status: 204, url: targetUrl });
    expect(proxy.tunnels.length + proxy.plain.length).toBe(before + 1);
    const exp = (await call('GET', '/config', as())).json;
    await call('PUT', '/config', as({ store: { ...exp.store, proxy: proxy.url.replace('http://', 'http://user:pw-secret@') } }));
    const configured = await call('POST', '/proxy/test', as({}));
    expect(configured.json.ok).toBe(true);
    expect(configured.json.proxy).not.toContain('pw-secret');
    expect((await call('GET', '/pool', as())).json.proxy).not.toContain('pw-secret');
    const dead = await call('POST', '/proxy/test', as({ proxy: 'http://127.0.0.1:1', timeoutMs: 2000 }));
    expect(dead.json.ok).toBe(false);
    expect(dead.json.error).toBeTruthy();
    for (const body of [{ proxy: 'nonsense' }, { proxy: 'ftp://x' }, { url: 'file:///etc/passwd' }, { timeoutMs: 1 }]) expect((await call('POST', '/proxy/test', as(body))).status, JSON.stringify(body)).toBe(400);
    await call('PUT', '/config', as({ store: { ...exp.store, proxy: '' } }));
  });
});

describe('usage, history and pool state', () => {
  it('every chat request is recorded: provider, model, account, key, tokens, status; history keeps text, cut', async () => {
    const openai = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'client-key-1' });
    const long = `please answer ${'x'.repeat(400)}`;
    await openai.chat.completions.create({ model: 'claude-sonnet-4.5', messages: [{ role: 'user', content: 'usage one' }] });
    const stream = await openai.chat.completions.create({ model: 'claude-sonnet-4.5', stream: true, messages: [{ role: 'user', content: long }] });
    for await (const _ of stream) void _;
    await expect(openai.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] })).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 100));

    const byAccount = await call('GET', '/usage?hours=1&bucket=minute&groupBy=account', as());
    expect(byAccount.status).toBe(200);
    const accounts = byAccount.json.series.map((s: any) => s.group);
    expect(accounts.some((a: string) => a.startsWith('kiro-'))).toBe(true);
    expect(byAccount.json.totals.requests).toBeGreaterThanOrEqual(3);
    expect(byAccount.json.totals.tokensIn).toBeGreaterThan(0);
    expect(byAccount.json.totals.tokensOut).toBeGreaterThan(0);
    const byModel = await call('GET', '/usage?hours=1&groupBy=model', as());
    expect(byModel.json.series.map((s: any) => s.group)).toContain('claude-sonnet-4.5');
    const byKey = await call('GET', '/usage?hours=1&groupBy=key', as());
    // the caller by name: API_KEY is the master key (client keys: tests/keys/)
    expect(byKey.json.series.map((x: any) => x.group)).toEqual(['master']);
    // the record files hold the same, and no key
    const files = await readdir(path.join(dataDir, 'usage'));
    const lines = (await readFile(path.join(dataDir, 'usage', files.find((f) => f.startsWith('usage-'))!), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.at(-1)).toMatchObject({ provider: 'kiro', model: 'claude-sonnet-4.5', status: 200, dialect: 'openai' });
    expect(lines.some((l) => l.stream === true && l.tokensOut > 0 && l.account)).toBe(true);

    const history = await call('GET', '/history?limit=5', as());
    const streamed = history.json.entries.find((e: any) => e.prompt.startsWith('please answer'));
    expect(streamed.prompt).toMatch(/… \[\d+ more characters\]$/);
    expect(streamed.answer).toMatch(/Kiro says/);
    expect(streamed.account).toMatch(/^kiro-/);
    expect((await call('GET', `/history/${streamed.requestId}`, as())).json.answer).toBe(streamed.answer);
    expect((await call('GET', '/history/nope', as())).status).toBe(404);
    for (const q of ['hours=-1', 'bucket=year', 'groupBy=secret', 'since=abc', 'other=1']) expect((await call('GET', `/usage?${q}`, as())).status, q).toBe(400);
    expect((await call('GET', '/history?limit=0', as())).status).toBe(400);
  });

  it('pool state shows a rate-limited account cooling with its last error', async () => {
    fake.setScript({ status: { 'rt-admin-one': 429 }, retryAfter: 120 });
    // kiro-one alone in rotation: its 429 makes it rest, and the request (to Kiro only: no fallback) has nowhere else to go
    await call('PATCH', '/accounts/kiro-two', as({ enabled: false }));
    const openai = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'client-key-1', maxRetries: 0 });
    await expect(openai.chat.completions.create({ model: 'kiro/claude-sonnet-4.5', messages: [{ role: 'user', content: 'pool' }] })).rejects.toMatchObject({ status: 429 });
    fake.setScript({});
    await call('PATCH', '/accounts/kiro-two', as({ enabled: true }));
    const pool = await call('GET', '/pool', as());
    const kiro = pool.json.providers.find((p: any) => p.id === 'kiro');
    const one = kiro.accounts.find((a: any) => a.id === 'kiro-one');
    expect(one.state.coolUntil).toBeGreaterThan(Date.now() + 60_000);
    expect(one.state.lastError).toMatch(/rate limit/);
    expect(one.state.lastRefresh).toBeGreaterThan(0);
    expect(kiro.summary.cooling).toBe(1);
  });

  it('no admin answer but the export carries a secret', () => {
    for (const body of seen) for (const s of SECRETS) expect(body.includes(s), s).toBe(false);
  });
});

describe('admin off', () => {
  it('without ADMIN_PASSWORD every admin route is 503 admin_disabled, never open', async () => {
    const off = await startStack({ LOG_LEVEL: 'silent' });
    try {
      for (const [method, p] of [...ENDPOINTS, ['POST', '/login'], ['GET', '/session']] as [string, string][]) {
        const r = await fetch(`${off.url}/api${p}`, { method, headers: { 'content-type': 'application/json' }, body: method === 'GET' ? undefined : JSON.stringify({ password: '' }) });
        expect(r.status, `${method} ${p}`).toBe(503);
        expect((await r.json()).error.code).toBe('admin_disabled');
      }
      // the backend-proxy surface under /api/ai is not the admin API
      expect((await fetch(`${off.url}/api/ai/embed`, { method: 'POST' })).status).toBe(501);
    } finally {
      await off.close();
    }
  });
});
