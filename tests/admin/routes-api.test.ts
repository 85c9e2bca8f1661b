/**
 * The admin API for model routes, against a running cligate with one Kiro account (fake
 * Kiro) and the OpenAI-compatible provider (fake OpenAI), MODEL_ROUTES set in the
 * environment: a route set through the API takes effect on the next chat request, the
 * environment routes are shown read-only and replaced by a stored one of the same match,
 * bad input and unknown providers are 400s naming the field, "try" gives the plan without
 * calling a provider, /api/status shows every provider (a CLI that is not installed as
 * such), the config export and import carry routes, and stored routes survive a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { startStack, type TestStack } from '../helpers/server.js';
import { dataDirWithStore, kiroSocial } from '../helpers/accounts.js';
import { startFakeKiro, type FakeKiro, kiroEnv } from '../fakes/kiro.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai.js';
import { fetchJson } from '../helpers/net.js';

const PASSWORD = 'routes-pass-41d0';
const MODEL_ROUTES = 'env-*=kiro/claude-sonnet-4.5; shared-name=kiro/claude-sonnet-4.5,claude-cli';

let kiro: FakeKiro;
let upstream: FakeOpenAI;
let stack: TestStack;
let dataDir: string;
let token = '';

async function boot(): Promise<void> {
  stack = await startStack({
    DATA_DIR: dataDir,
    ADMIN_PASSWORD: PASSWORD,
    ...kiroEnv(kiro),
    OPENAI_COMPATIBLE_BASE_URL: `${upstream.url}/v1`,
    OPENAI_COMPATIBLE_MODELS: 'local-llama',
    MODEL_ROUTES,
    // a CLI that is not installed
    QWEN_CLI_PATH: '/nonexistent/bin/qwen',
  });
  const login = await fetchJson(`${stack.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: PASSWORD }) });
  expect(login.status).toBe(200);
  token = login.json.token;
}

beforeAll(async () => {
  kiro = await startFakeKiro([{ refresh_token: 'rt-routes', auth_method: 'social' }]);
  upstream = await startFakeOpenAI({ reply: 'from the upstream' });
  dataDir = await dataDirWithStore('routes', { accounts: kiroSocial({ 'kiro-routes': 'rt-routes' }) });
  await boot();
}, 60_000);
afterAll(async () => {
  await stack?.close();
  await kiro?.close();
  await upstream?.close();
  await rm(dataDir, { recursive: true, force: true });
});

function call(method: string, p: string, body?: unknown, auth = true) {
  const headers: Record<string, string> = auth ? { authorization: `Bearer ${token}` } : {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetchJson(`${stack.url}/api${p}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
}

async function chat(model: string) {
  const r = await fetchJson(`${stack.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'which one?' }] }) });
  expect(r.status, r.text).toBe(200);
  return { provider: r.headers.get('x-cligate-provider'), text: r.json.choices[0].message.content as string };
}

describe('admin routes API', () => {
  it('every routes endpoint and /api/status need a login', async () => {
    for (const [m, p] of [['GET', '/routes'], ['PUT', '/routes'], ['PUT', '/routes/x'], ['DELETE', '/routes/x'], ['POST', '/routes/try'], ['GET', '/status']] as const) {
      const r = await call(m, p, m === 'GET' ? undefined : {}, false);
      expect(r.status, `${m} ${p}`).toBe(401);
    }
  });

  it('shows the environment routes read-only, with readiness and the .env line', async () => {
    const r = await call('GET', '/routes');
    expect(r.status).toBe(200);
    expect(r.json.stored).toEqual([]);
    expect(r.json.environment).toEqual([
      { match: 'env-*', targets: ['kiro/claude-sonnet-4.5'] },
      { match: 'shared-name', targets: ['kiro/claude-sonnet-4.5', 'claude-cli'] },
    ]);
    expect(r.json.effective).toEqual([
      { match: 'env-*', source: 'environment', targets: [{ target: 'kiro/claude-sonnet-4.5', ready: true, detail: '1 of 1 accounts usable' }], serving: 'kiro/claude-sonnet-4.5' },
      expect.objectContaining({ match: 'shared-name', source: 'environment', serving: 'kiro/claude-sonnet-4.5' }),
    ]);
    expect(r.json.env).toBe('env-*=kiro/claude-sonnet-4.5; shared-name=kiro/claude-sonnet-4.5,claude-cli');
    expect(r.json.providers.map((p: { id: string }) => p.id)).toEqual(expect.arrayContaining(['kiro', 'openai-compatible', 'claude-cli', 'qwen-cli']));
  });

  it('a route set through the API serves the next request; deleting it goes back', async () => {
    expect((await chat('claude-sonnet-4.5')).provider).toBe('kiro');
    const before = upstream.requests.length;

    const set = await call('PUT', `/routes/${encodeURIComponent('claude-sonnet-4.5')}`, { targets: ['openai-compatible/local-llama', 'kiro'] });
    expect(set.status, set.text).toBe(201);
    expect(set.json).toMatchObject({ match: 'claude-sonnet-4.5', created: true, readiness: { source: 'stored', serving: 'openai-compatible/local-llama' } });

    const served = await chat('claude-sonnet-4.5');
    expect(served).toEqual({ provider: 'openai-compatible', text: 'from the upstream' });
    expect(upstream.requests.length).toBe(before + 1);
    expect(upstream.requests.at(-1)!.body.model).toBe('local-llama');

    // edited in place: the order of targets changes who serves
    const edit = await call('PUT', `/routes/${encodeURIComponent('claude-sonnet-4.5')}`, { targets: ['kiro', 'openai-compatible/local-llama'] });
    expect(edit.status).toBe(200);
    expect(edit.json.created).toBe(false);
    expect((await chat('claude-sonnet-4.5')).provider).toBe('kiro');

    const del = await call('DELETE', `/routes/${encodeURIComponent('claude-sonnet-4.5')}`);
    expect(del.json).toEqual({ deleted: 'claude-sonnet-4.5' });
    expect((await call('GET', '/routes')).json.stored).toEqual([]);
    expect((await call('DELETE', '/routes/claude-sonnet-4.5')).json.error.code).toBe('route_not_found');
    const envDelete = await call('DELETE', `/routes/${encodeURIComponent('env-*')}`);
    expect(envDelete.status).toBe(404);
    expect(envDelete.json.error.message).toMatch(/MODEL_ROUTES/);
  });

  it('PUT /api/routes replaces the stored list; a stored route replaces the environment one of the same match', async () => {
    const r = await call('PUT', '/routes', { routes: [{ match: 'team-*', targets: ['openai-compatible/local-llama'] }, { match: 'shared-name', targets: ['openai-compatible/local-llama'] }] });
    expect(r.status, r.text).toBe(200);
    expect(r.json.stored).toHaveLength(2);
    expect(r.json.effective.map((e: { match: string; source: string }) => `${e.match}:${e.source}`)).toEqual(['team-*:stored', 'shared-name:stored', 'env-*:environment']);
    expect(r.json.env).toBe('team-*=openai-compatible/local-llama; shared-name=openai-compatible/local-llama; env-*=kiro/claude-sonnet-4.5');
    expect((await chat('team-blue')).provider).toBe('openai-compatible');
    expect((await chat('shared-name')).provider).toBe('openai-compatible');
    expect((await chat('env-x')).provider).toBe('kiro');
  });

  it('bad input is a 400 naming the field; an unknown provider is a 400 naming it', async () => {
    const cases: [string, string, unknown, RegExp, string][] = [
      ['PUT', '/routes', { routes: [{ match: 'bad name!', targets: ['kiro'] }] }, /routes\.0\.match/, 'routes.0.match'],
      ['PUT', '/routes', { routes: [{ match: 'ok', targets: [] }] }, /routes\.0\.targets/, 'routes.0.targets'],
      ['PUT', '/routes', { routes: [{ match: 'a', targets: ['kiro'] }, { match: 'a', targets: ['kiro'] }] }, /each match at most once/, 'routes'],
      ['PUT', '/routes', { routes: [], extra: 1 }, /unrecognized/i, ''],
      ['PUT', '/routes', { routes: [{ match: 'ok', targets: ['kiro', 'nope/some-model'] }] }, /routes\.0\.targets\.1: no provider 'nope'/, 'routes.0.targets.1'],
      ['PUT', '/routes/ok', { targets: 'kiro' }, /targets/, 'targets'],
      ['PUT', '/routes/ok', { targets: ['kiro/bad model'] }, /targets\.0/, 'targets.0'],
      ['PUT', '/routes/ok', { targets: ['ghost'] }, /no provider 'ghost'/, 'targets.0'],
      ['PUT', `/routes/${encodeURIComponent('bad name')}`, { targets: ['kiro'] }, /Invalid route match/, 'match'],
      ['POST', '/routes/try', {}, /model/, 'model'],
    ];
    for (const [m, p, body, message, param] of cases) {
      const r = await call(m, p, body);
      expect(r.status, `${m} ${p} ${JSON.stringify(body)}`).toBe(400);
      expect(r.json.error.code).toBe('invalid_admin_input');
      expect(r.json.error.message).toMatch(message);
      if (param) expect(r.json.error.param).toBe(param);
    }
    // nothing of it was stored
    expect((await call('GET', '/routes')).json.stored.map((x: { match: string }) => x.match)).toEqual(['team-*', 'shared-name']);
  });

  it('try: the plan for a name (route, targets with readiness, skipped, who serves now) without calling a provider', async () => {
    await call('PUT', `/routes/${encodeURIComponent('plan-*')}`, { targets: ['qwen-cli/qwen3-coder-plus', 'kiro/not-a-kiro-model', 'kiro/claude-sonnet-4.5'] });
    const calls = kiro.calls.length;
    const requests = upstream.requests.length;
    const r = await call('POST', '/routes/try', { model: 'plan-x' });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({
      requested: 'plan-x',
      route: { match: 'plan-*', source: 'stored' },
      targets: [
        { target: 'qwen-cli/qwen3-coder-plus', provider: 'qwen-cli', ready: false, detail: expect.stringMatching(/not (found|installed)/) },
        { target: 'kiro/claude-sonnet-4.5', provider: 'kiro', ready: true },
      ],
      skipped: [{ target: 'kiro/not-a-kiro-model', why: "'kiro' does not serve it" }],
      serving: 'kiro/claude-sonnet-4.5',
    });
    // a bare name with no route: every provider that serves it
    const bare = await call('POST', '/routes/try', { model: 'local-llama' });
    expect(bare.json).toMatchObject({ route: null, targets: [{ target: 'openai-compatible/local-llama', ready: true }], serving: 'openai-compatible/local-llama' });
    const none = await call('POST', '/routes/try', { model: 'no-such-model-anywhere' });
    expect(none.status).toBe(404);
    expect(none.json.error.code).toBe('model_not_found');
    expect(kiro.calls.length).toBe(calls);
    expect(upstream.requests.length).toBe(requests);
  });

  it('/api/status: every provider with its kind and readiness; a CLI not installed says so and how to fix it', async () => {
    const r = await call('GET', '/status');
    expect(r.status).toBe(200);
    const byId = Object.fromEntries(r.json.providers.map((p: { id: string }) => [p.id, p]));
    expect(Object.keys(byId).sort()).toEqual(['claude-cli', 'cloudcode', 'codex-cli', 'gemini-cli', 'gemini-enterprise', 'kiro', 'openai-compatible', 'qwen-cli']);
    expect(byId.kiro).toMatchObject({ kind: 'accounts', ready: true, accounts: { usable: 1, total: 1 } });
    expect(byId.cloudcode).toMatchObject({ kind: 'accounts', ready: false, detail: 'no accounts', accounts: { usable: 0, total: 0 } });
    expect(byId['openai-compatible']).toMatchObject({ kind: 'upstream', ready: true });
    expect(byId['qwen-cli']).toMatchObject({ kind: 'cli', ready: false, cli: { installed: false, path: '/nonexistent/bin/qwen' }, fix: expect.stringContaining('npm install -g @qwen-code/qwen-code') });
    expect(byId['claude-cli']).toMatchObject({ kind: 'cli', ready: true, cli: { installed: true, loggedIn: true, version: expect.any(String) }, warm: [] });
    expect(r.json.routes.map((x: { match: string }) => x.match)).toEqual(['team-*', 'shared-name', 'plan-*', 'env-*']);
    expect(r.json.warm).toMatchObject({ enabled: expect.any(Boolean), idle: expect.any(Number) });
  });

  it('the config export carries the routes; an import is checked for unknown providers', async () => {
    const exp = await call('GET', '/config');
    expect(exp.json.store.routes.map((x: { match: string }) => x.match)).toEqual(['team-*', 'shared-name', 'plan-*']);
    const bad = structuredClone(exp.json);
    bad.store.routes.push({ match: 'other', targets: ['nowhere/x'] });
    const r = await call('PUT', '/config', bad);
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ code: 'invalid_admin_input', param: 'routes.3.targets.0' });
    const ok = await call('PUT', '/config', exp.json);
    expect(ok.status, ok.text).toBe(200);
    expect(ok.json.routes).toBe(3);
  });

  it('stored routes are saved in accounts.json and survive a restart', async () => {
    const file = JSON.parse(await readFile(path.join(dataDir, 'accounts.json'), 'utf8'));
    expect(file.routes.map((x: { match: string }) => x.match)).toEqual(['team-*', 'shared-name', 'plan-*']);
    await stack.close();
    await boot();
    const r = await call('GET', '/routes');
    expect(r.json.stored.map((x: { match: string }) => x.match)).toEqual(['team-*', 'shared-name', 'plan-*']);
    expect((await chat('team-red')).provider).toBe('openai-compatible');
  }, 60_000);
});

describe('/api/status: warm processes', () => {
  it('counts the warm processes of each CLI per model (WARM_POOL_MODELS)', async () => {
    const warmData = await dataDirWithStore('routes-warm', { accounts: [] });
    const warmStack = await startStack({ DATA_DIR: warmData, ADMIN_PASSWORD: PASSWORD, WARM_POOL_SIZE: '1', WARM_POOL_MODELS: 'claude-sonnet-4-5' });
    try {
      const login = await fetchJson(`${warmStack.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: PASSWORD }) });
      const status = async () => {
        const r = await fetchJson(`${warmStack.url}/api/status`, { headers: { authorization: `Bearer ${login.json.token}` } });
        return r.json.providers.find((p: { id: string }) => p.id === 'claude-cli').warm;
      };
      // the process starts in the background; the poll's limit is a safety net, not the assertion
      await expect.poll(status, { timeout: 30_000, interval: 100 }).toEqual([{ model: 'claude-sonnet-4-5', idle: 1, starting: 0 }]);
    } finally {
      await warmStack.close();
      await rm(warmData, { recursive: true, force: true });
    }
  }, 60_000);
});
