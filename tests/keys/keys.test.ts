/**
 * Client keys end to end on one cligate (in-process, an OpenAI-compatible fake upstream):
 * made in the admin API (secret shown once, only its hash stored), used with the OpenAI SDK,
 * counted by name (usage, history, request log, /metrics), limited (requests per minute,
 * tokens per day, in flight: exact under concurrency), scoped to models after routing,
 * disabled, expired, revoked and deleted — one key capped and revoked without touching another.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import OpenAI from 'openai';
import { startStack, type TestStack } from '../helpers/server.js';
import { errorShape } from '../helpers/dialects.js';
import { startFakeOpenAI } from '../fakes/openai.js';
import { adminApi } from '../helpers/admin.js';

const MASTER = 'sk-master-keys-test';
const PASSWORD = 'keys-admin-pass';
let stack: TestStack;
const admin = adminApi(() => stack.url, PASSWORD);

beforeAll(async () => {
  stack = await startStackWithUpstream();
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

/** the OpenAI-compatible provider's upstream is a fake of its own (the stack's fakes stand behind the CLIs) */
async function startStackWithUpstream(): Promise<TestStack> {
  const upstream = await startFakeOpenAI({ reply: 'hello', usage: { prompt_tokens: 12, completion_tokens: 8 } });
  const s = await startStack({
    API_KEY: MASTER,
    ADMIN_PASSWORD: PASSWORD,
    OPENAI_COMPATIBLE_BASE_URL: `${upstream.url}/v1`,
    OPENAI_COMPATIBLE_MODELS: 'local-llama,local-qwen,other-model',
    MODEL_ALIASES: 'fast=local-llama,slow=other-model',
  });
  const close = s.close;
  return Object.assign(s, { openai: upstream, close: async () => (await close(), await upstream.close()) });
}

async function makeKey(body: Record<string, unknown>): Promise<{ id: string; secret: string }> {
  const r = await admin('POST', '/keys', body);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return { id: r.body.key.id, secret: r.body.secret };
}

const chatWith = (key: string, model = 'local-llama', extra: Record<string, string> = {}) =>
  fetch(`${stack.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...extra }, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }) });

describe('client keys', () => {
  it('a key is made with its secret shown once; only its hash is kept; it works with the OpenAI SDK', async () => {
    const r = await admin('POST', '/keys', { name: 'alice', models: ['local-*'], limits: { requestsPerMinute: 100 } });
    expect(r.status).toBe(201);
    const secret: string = r.body.secret;
    expect(secret).toMatch(/^cg-[A-Za-z0-9_-]{43}$/); // 32 random bytes
    expect(r.body.key).toMatchObject({ name: 'alice', state: 'active', models: ['local-*'], limits: { requestsPerMinute: 100 }, hint: secret.slice(0, 7) + '…' });
    expect(r.body.key.hash).toBeUndefined();
    const file = await readFile(path.join(stack.home, 'data', 'accounts.json'), 'utf8');
    expect(file).not.toContain(secret);
    expect(file).toContain(r.body.key.id);
    const list = await admin('GET', '/keys');
    expect(JSON.stringify(list.body)).not.toContain(secret);
    expect(list.body.keys.every((k: any) => k.hash === undefined)).toBe(true);

    const sdk = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: secret, maxRetries: 0 });
    const answer = await sdk.chat.completions.create({ model: 'local-llama', messages: [{ role: 'user', content: 'hi' }] });
    expect(answer.choices[0]!.message.content).toBe('hello');
    const raw = await sdk.chat.completions.create({ model: 'local-llama', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(raw.response.headers.get('x-ratelimit-limit-requests')).toBe('100');
    expect(Number(raw.response.headers.get('x-ratelimit-remaining-requests'))).toBeLessThan(100);
    // the upstream never sees the client's key
    expect(JSON.stringify(stack.openai.requests.at(-1)!.headers)).not.toContain(secret);
  });

  it('every way a key is presented works on every dialect, the backend-proxy endpoints with X-Session-ID too', async () => {
    const { secret } = await makeKey({ name: 'ways' });
    const body = { model: 'local-llama', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 };
    const gem = { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] };
    const calls: [string, string, unknown, Record<string, string>][] = [
      ['bearer', '/v1/chat/completions', body, { authorization: `Bearer ${secret}` }],
      ['x-api-key', '/v1/messages', body, { 'x-api-key': secret }],
      ['x-goog-api-key', '/v1beta/models/local-llama:generateContent', gem, { 'x-goog-api-key': secret }],
      ['?key=', `/v1beta/models/local-llama:generateContent?key=${secret}`, gem, {}],
      ['backend proxy', '/api/ai/generate', { model: 'local-llama', ...gem }, { authorization: `Bearer ${secret}`, 'x-session-id': 'sess-1' }],
    ];
    for (const [way, p, b, headers] of calls) {
      const r = await fetch(`${stack.url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(b) });
      expect(r.status, `${way}: ${await r.clone().text()}`).toBe(200);
    }
    const usage = await admin('GET', `/usage?groupBy=key&key=ways&hours=1`);
    expect(usage.body.series).toHaveLength(1);
    expect(usage.body.series[0]).toMatchObject({ group: 'ways', totals: { requests: calls.length } });
  });

  it('accounting by name: usage, history, the request log and /metrics; the master key is "master"', async () => {
    const { id, secret } = await makeKey({ name: 'bob' });
    for (let i = 0; i < 3; i++) expect((await chatWith(secret)).status).toBe(200);
    expect((await chatWith(MASTER)).status).toBe(200);
    const usage = await admin('GET', `/keys/${id}/usage?hours=1`);
    expect(usage.status).toBe(200);
    expect(usage.body.totals).toMatchObject({ requests: 3, tokensIn: 36, tokensOut: 24 });
    expect(usage.body.series[0]).toMatchObject({ group: 'local-llama' });
    expect(usage.body.use).toMatchObject({ tokensToday: 60, inFlight: 0 });
    const keys = (await admin('GET', '/keys')).body.keys as any[];
    const bob = keys.find((k) => k.name === 'bob');
    expect(bob.today).toMatchObject({ requests: 3, tokensIn: 36, tokensOut: 24 });
    expect(bob.lastUsedAt).toBeGreaterThan(Date.now() - 60_000);
    const byKey = (await admin('GET', '/usage?groupBy=key&hours=1')).body.series.map((s: any) => s.group);
    expect(byKey).toEqual(expect.arrayContaining(['bob', 'master']));
    const history = (await admin('GET', '/history?key=bob')).body.entries as any[];
    expect(history).toHaveLength(3);
    expect(history.every((e) => e.key === 'bob')).toBe(true);
    const metrics = await (await fetch(`${stack.url}/metrics`, { headers: { authorization: `Bearer ${MASTER}` } })).text();
    expect(metrics).toMatch(/cligate_key_requests_total\{key="bob",status="200"\} 3/);
    expect(metrics).toMatch(/cligate_key_tokens_total\{key="bob",kind="input"\} 36/);
    // a client key does not read everyone's metrics
    expect((await fetch(`${stack.url}/metrics`, { headers: { authorization: `Bearer ${secret}` } })).status).toBe(401);
  });

  it('two people: one capped, then revoked, the other untouched', async () => {
    const carol = await makeKey({ name: 'carol' });
    const dave = await makeKey({ name: 'dave', limits: { requestsPerMinute: 3 } });
    // 8 at once: exactly 3 in, whichever they are
    const statuses = await Promise.all(Array.from({ length: 8 }, () => chatWith(dave.secret).then((r) => r.status)));
    // a minute boundary may fall inside the burst; the window then holds fewer of them
    const ok = statuses.filter((s) => s === 200).length;
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    expect(ok === 3 || (ok > 3 && ok <= 6 && new Date().getSeconds() < 5)).toBe(true);
    const refused = await chatWith(dave.secret);
    if (refused.status === 429) {
      const body = await refused.json();
      expect(errorShape('openai', body)).toBeUndefined();
      expect(body.error.code).toBe('key_requests_per_minute');
      expect(body.error.message).toContain("API key 'dave' reached its limit of 3 requests per minute");
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    expect((await chatWith(carol.secret)).status).toBe(200);
    // refusals never reach a provider: a series of their own shows who hits their limits
    const metrics = await (await fetch(`${stack.url}/metrics`, { headers: { authorization: `Bearer ${MASTER}` } })).text();
    expect(Number(/cligate_key_refusals_total\{key="dave",code="key_requests_per_minute"\} (\d+)/.exec(metrics)?.[1])).toBe(statuses.filter((s) => s === 429).length + (refused.status === 429 ? 1 : 0));
    expect((await admin('POST', `/keys/${dave.id}/revoke`)).body.key.state).toBe('revoked');
    const revoked = await chatWith(dave.secret);
    expect(revoked.status).toBe(401);
    const rb = await revoked.json();
    expect(rb.error.code).toBe('api_key_revoked');
    expect(rb.error.message).toContain("('dave') was revoked");
    expect((await chatWith(carol.secret)).status).toBe(200);
    // a revoked key is never enabled again
    const again = await admin('PATCH', `/keys/${dave.id}`, { enabled: true });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('key_revoked');
  });

  it('requests in flight: exactly the limit at once; the slot is free again when a request ends', async () => {
    const k = await makeKey({ name: 'eve', limits: { concurrent: 2 } });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    stack.openai.setScript({ reply: 'slow answer', usage: { prompt_tokens: 1, completion_tokens: 1 }, gate: () => held });
    const streams = Array.from({ length: 5 }, () =>
      fetch(`${stack.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${k.secret}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'local-llama', stream: true, messages: [{ role: 'user', content: 'hi' }] }) }),
    );
    const responses = await Promise.all(streams.map((p) => Promise.race([p, new Promise<'held'>((r) => setTimeout(() => r('held'), 1500))])));
    // the two admitted are held open by the upstream; the other three were refused at once
    const refused = responses.filter((r) => r !== 'held' && r.status === 429) as Response[];
    expect(refused).toHaveLength(3);
    expect((await refused[0]!.json()).error.code).toBe('key_concurrency');
    release();
    const admitted = await Promise.all(streams);
    const bodies = await Promise.all(admitted.filter((r) => r.status === 200).map((r) => r.text()));
    expect(bodies).toHaveLength(2);
    stack.openai.setScript({ reply: 'hello', usage: { prompt_tokens: 12, completion_tokens: 8 } });
    await expect.poll(async () => (await admin('GET', `/keys/${k.id}/usage?hours=1`)).body.use.inFlight).toBe(0);
    expect((await chatWith(k.secret)).status).toBe(200);
  });

  it('tokens per day: refused once the day is used, until the next UTC day', async () => {
    const k = await makeKey({ name: 'frank', limits: { tokensPerDay: 30 } });
    expect((await chatWith(k.secret)).status).toBe(200); // 20 tokens
    expect((await chatWith(k.secret)).status).toBe(200); // 40: over, counted after the fact
    const r = await chatWith(k.secret);
    expect(r.status).toBe(429);
    const body = await r.json();
    expect(body.error.code).toBe('key_tokens_per_day');
    const secondsToMidnight = Math.ceil((86_400_000 - (Date.now() % 86_400_000)) / 1000);
    expect(Math.abs(Number(r.headers.get('retry-after')) - secondsToMidnight)).toBeLessThan(5);
    // raising the limit lets it in again at once
    expect((await admin('PATCH', `/keys/${k.id}`, { limits: { tokensPerDay: 1000 } })).status).toBe(200);
    expect((await chatWith(k.secret)).status).toBe(200);
    expect((await admin('PATCH', `/keys/${k.id}`, { limits: { tokensPerDay: null } })).body.key.limits).toEqual({});
  });

  it('models: names and globs checked after routing (aliases count); outside the list is a 403 in the dialect', async () => {
    const k = await makeKey({ name: 'grace', models: ['local-*'] });
    expect((await chatWith(k.secret, 'local-qwen')).status).toBe(200);
    expect((await chatWith(k.secret, 'fast')).status).toBe(200); // alias of local-llama
    const r = await chatWith(k.secret, 'slow'); // alias of other-model
    expect(r.status).toBe(403);
    const body = await r.json();
    expect(errorShape('openai', body)).toBeUndefined();
    expect(body.error.code).toBe('model_not_allowed');
    expect(body.error.message).toContain("API key 'grace' may not use model 'slow'");
    const a = await fetch(`${stack.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': k.secret, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'other-model', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }) });
    expect(a.status).toBe(403);
    expect(await a.json()).toMatchObject({ type: 'error', error: { type: 'permission_error' } });
    const g = await fetch(`${stack.url}/v1beta/models/other-model:generateContent`, { method: 'POST', headers: { 'x-goog-api-key': k.secret, 'content-type': 'application/json' }, body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }) });
    expect(g.status).toBe(403);
    expect(await g.json()).toMatchObject({ error: { code: 403, status: 'PERMISSION_DENIED' } });
    // a name that routes nowhere is refused as not allowed, not as unknown
    expect((await chatWith(k.secret, 'no-such-model')).status).toBe(403);
    // the model lists show the key what it may use
    const ids = ((await (await fetch(`${stack.url}/v1/models`, { headers: { authorization: `Bearer ${k.secret}` } })).json()) as any).data.map((m: any) => m.id);
    expect(ids).toContain('local-llama');
    expect(ids).not.toContain('other-model');
    expect(ids.every((id: string) => /(^|\/)local-/.test(id))).toBe(true);
    const gids = ((await (await fetch(`${stack.url}/v1beta/models`, { headers: { 'x-goog-api-key': k.secret } })).json()) as any).models.map((m: any) => m.name);
    expect(gids).toContain('models/local-llama');
    expect(gids).not.toContain('models/other-model');
    const master = ((await (await fetch(`${stack.url}/v1/models`, { headers: { authorization: `Bearer ${MASTER}` } })).json()) as any).data.map((m: any) => m.id);
    expect(master).toContain('other-model');
  });

  it('disabled, then enabled; expired; deleted: each refusal names why', async () => {
    const k = await makeKey({ name: 'heidi' });
    await admin('PATCH', `/keys/${k.id}`, { enabled: false });
    const off = await chatWith(k.secret);
    expect(off.status).toBe(401);
    expect((await off.json()).error.code).toBe('api_key_disabled');
    await admin('PATCH', `/keys/${k.id}`, { enabled: true });
    expect((await chatWith(k.secret)).status).toBe(200);

    const soon = await makeKey({ name: 'ivan', expiresAt: Date.now() + 1_000 });
    expect((await chatWith(soon.secret)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1_100));
    const expired = await chatWith(soon.secret);
    expect(expired.status).toBe(401);
    const eb = await expired.json();
    expect(eb.error.code).toBe('api_key_expired');
    expect(eb.error.message).toMatch(/\('ivan'\) expired at \d{4}-/);
    expect((await admin('GET', `/keys/${soon.id}`)).body.key.state).toBe('expired');

    expect((await admin('DELETE', `/keys/${k.id}`)).body.deleted).toBe(true);
    const gone = await chatWith(k.secret);
    expect(gone.status).toBe(401);
    expect((await gone.json()).error.code).toBe('invalid_api_key');
    expect((await admin('GET', `/keys/${k.id}`)).status).toBe(404);
  });

  it('bad admin input: a 400 naming the field; a taken name is a 409', async () => {
    const bad = await admin('POST', '/keys', { name: 'x', limits: { requestsPerMinute: 'ten' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('limits.requestsPerMinute');
    expect((await admin('POST', '/keys', { name: ' leading space' })).status).toBe(400);
    expect((await admin('POST', '/keys', { name: 'past', expiresAt: Date.now() - 1000 })).body.error.message).toContain('expiresAt: must be in the future');
    const taken = await admin('POST', '/keys', { name: 'alice' });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('key_name_taken');
  });

  it('keys travel with the configuration export and import (hashes only)', async () => {
    const exported = (await admin('GET', '/config')).body;
    const names = (exported.keys ?? exported.store?.keys ?? []).map((k: any) => k.name);
    expect(names).toEqual(expect.arrayContaining(['alice', 'bob']));
    expect(JSON.stringify(exported)).not.toMatch(/cg-[A-Za-z0-9_-]{43}/);
    // an import with two keys of one name is refused, naming the field; the export itself goes back in and its keys still work
    const twice = { ...exported.store, keys: [...exported.store.keys, { ...exported.store.keys[0], id: 'key_0000000000000001' }] };
    const bad = await admin('PUT', '/config', twice);
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/keys\.\d+\.name: 'alice' appears twice/);
    const { secret } = await makeKey({ name: 'after-import' });
    const back = await admin('PUT', '/config', (await admin('GET', '/config')).body);
    expect(back.status).toBe(200);
    expect(back.body.keys).toBeGreaterThan(2);
    expect((await chatWith(secret)).status).toBe(200);
  });
});
