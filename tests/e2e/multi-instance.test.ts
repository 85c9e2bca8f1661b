/**
 * Two cligate instances sharing a real Redis (redis-server started here on a free port),
 * Kiro accounts behind one fake Kiro: a token refreshed once across both, the round-robin
 * cursor shared (accounts alternate across instances), a cooldown set by one seen by the
 * other, an account added on one served by the other, and one rate limit for both.
 * .ci/run installs redis-server; elsewhere the test is skipped when it is missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, rm, utimes } from 'node:fs/promises';
import path from 'node:path';
import OpenAI from 'openai';
import { startStack, type TestStack } from '../helpers/server.js';
import { dataDirWithStore, kiroSocial } from '../helpers/accounts.js';
import { startFakeKiro, type FakeKiro, kiroEnv } from '../fakes/kiro.js';
import { hasRedisServer, startRedis, type TestRedis } from '../helpers/redis.js';
import { adminApi, type AdminCall } from '../helpers/admin.js';

const available = hasRedisServer();
if (!available && process.env.CI) throw new Error('redis-server is missing: .ci/run installs it');

let redis: TestRedis;
let fake: FakeKiro;
let a: TestStack;
let b: TestStack;
const dirs: string[] = [];
const PASSWORD = 'multi-admin';

async function instance(opts: { staleFile?: boolean } = {}): Promise<TestStack> {
  const dataDir = await dataDirWithStore('multi', { providers: { kiro: { strategy: 'round-robin' } }, accounts: kiroSocial({ 'k-one': 'rt-x-one', 'k-two': 'rt-x-two' }) });
  dirs.push(dataDir);
  const file = path.join(dataDir, 'accounts.json');
  // a file older than the shared state (an instance restarted with yesterday's store)
  if (opts.staleFile) await utimes(file, new Date('2020-01-01'), new Date('2020-01-01'));
  return startStack({
    DATA_DIR: dataDir,
    REDIS_URL: redis.url,
    REDIS_PREFIX: 'test:',
    ADMIN_PASSWORD: PASSWORD,
    RATE_LIMIT_ENABLED: 'true',
    RATE_LIMIT_MODELS_PER_MINUTE: '5',
    RATE_LIMIT_CHAT_PER_MINUTE: '1000',
    ...kiroEnv(fake),
    ACCOUNT_COOLDOWN_BASE: '600',
  });
}

const chat = (s: TestStack, content: string) =>
  new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'x', maxRetries: 0 }).chat.completions.create({ model: 'claude-sonnet-4.5', messages: [{ role: 'user', content }] });

// logins are rate-limited across instances too: one per instance
const sessions = new Map<TestStack, AdminCall>();
async function admin(s: TestStack, method: string, p: string, body?: unknown): Promise<any> {
  if (!sessions.has(s)) sessions.set(s, adminApi(() => s.url, PASSWORD));
  return (await sessions.get(s)!(method, p, body)).body;
}

/** which account each generate call of the fake used, in order */
const served = () => fake.calls.filter((c) => c.path.endsWith('/generateAssistantResponse')).map((c) => c.account);

describe.skipIf(!available)('several instances on one Redis', () => {
  beforeAll(async () => {
    redis = await startRedis();
    fake = await startFakeKiro([
      { refresh_token: 'rt-x-one', auth_method: 'social', rotate: true },
      { refresh_token: 'rt-x-two', auth_method: 'social' },
      { refresh_token: 'rt-x-three', auth_method: 'social' },
    ]);
    a = await instance();
    b = await instance();
  }, 60_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await fake?.close();
    await redis?.close();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('each token is refreshed once across both instances, however many requests race for it', async () => {
    await Promise.all([chat(a, 'r1'), chat(b, 'r2'), chat(a, 'r3'), chat(b, 'r4'), chat(a, 'r5'), chat(b, 'r6')]);
    expect(fake.count('/refreshToken', 'rt-x-one')).toBe(1);
    expect(fake.count('/refreshToken', 'rt-x-two')).toBe(1);
    // the rotated refresh token reached both instances' stores
    const rotated = fake.refreshTokenOf('rt-x-one');
    expect(rotated).not.toBe('rt-x-one');
    for (const d of dirs) await expect.poll(async () => JSON.parse(await readFile(path.join(d, 'accounts.json'), 'utf8')).accounts[0].credentials.refresh_token).toBe(rotated);
  });

  it('a Responses conversation started on one instance continues on the other (previous_response_id through Redis); DELETE on one is seen by the other', async () => {
    const client = (s: TestStack) => new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'x', maxRetries: 0 });
    const first = await client(a).responses.create({ model: 'claude-sonnet-4.5', input: 'remember the word heliotrope' });
    const before = fake.calls.length;
    const second = await client(b).responses.create({ model: 'claude-sonnet-4.5', input: 'which word?', previous_response_id: first.id });
    expect(second.previous_response_id).toBe(first.id);
    // B sent the whole conversation upstream: A's turn is in Kiro's history
    const generate = fake.calls.slice(before).find((c) => c.path.endsWith('/generateAssistantResponse'))!;
    expect(JSON.stringify(generate.body.conversationState.history)).toContain('remember the word heliotrope');
    expect((await client(a).responses.retrieve(second.id)).id).toBe(second.id);
    await client(b).responses.delete(first.id);
    const gone = await fetch(`${a.url}/v1/responses/${first.id}`);
    expect(gone.status).toBe(404);
  });

  it('the round-robin cursor is shared: requests alternating between instances alternate accounts', async () => {
    const before = served().length;
    for (let i = 0; i < 6; i++) await chat(i % 2 ? b : a, `rr ${i}`);
    const order = served().slice(before);
    // with a cursor per instance this would be one, one, two, two, ...
    for (let i = 1; i < order.length; i++) expect(order[i], order.join(',')).not.toBe(order[i - 1]);
  });

  it('a cooldown set by one instance is seen by the other', async () => {
    fake.setScript({ status: { 'rt-x-one': 429 }, retryAfter: 600 });
    // until instance A meets k-one, then fails over to k-two
    for (let i = 0; i < 2; i++) await chat(a, `cool ${i}`);
    fake.setScript({});
    const askedOne = fake.count('/generateAssistantResponse', 'rt-x-one');
    await expect.poll(async () => (await admin(b, 'GET', '/pool')).providers.find((p: any) => p.id === 'kiro').accounts.find((x: any) => x.id === 'k-one').state.coolUntil ?? 0).toBeGreaterThan(Date.now() + 500_000);
    // B never sends to the resting account
    for (let i = 0; i < 4; i++) await chat(b, `after ${i}`);
    expect(fake.count('/generateAssistantResponse', 'rt-x-one')).toBe(askedOne);
    // and putting it back on B (a passing test) is seen by A
    expect((await admin(b, 'POST', '/accounts/k-one/test')).ok).toBe(true);
    await expect.poll(async () => (await admin(a, 'GET', '/accounts/k-one')).state.usable).toBe(true);
  });

  it('an account added on one instance serves requests on the other', async () => {
    const added = await admin(a, 'POST', '/accounts', { id: 'k-three', provider: 'kiro', credentials: { refresh_token: 'rt-x-three', auth_method: 'social' } });
    expect(added.id).toBe('k-three');
    await expect.poll(async () => (await admin(b, 'GET', '/accounts')).accounts.map((x: any) => x.id)).toContain('k-three');
    for (let i = 0; i < 6; i++) await chat(b, `three ${i}`);
    expect(fake.count('/generateAssistantResponse', 'rt-x-three')).toBeGreaterThan(0);
  });

  it('a route stored on one instance serves on the other at once', async () => {
    const set = await admin(a, 'PUT', `/routes/${encodeURIComponent('team-*')}`, { targets: ['kiro/claude-sonnet-4.5'] });
    expect(set.match).toBe('team-*');
    const ask = async () => {
      const r = await fetch(`${b.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'team-default', messages: [{ role: 'user', content: 'routed' }] }) });
      return `${r.status} ${r.headers.get('x-cligate-provider')}`;
    };
    await expect.poll(ask).toBe('200 kiro');
    expect((await admin(b, 'GET', '/routes')).stored).toEqual([{ match: 'team-*', targets: ['kiro/claude-sonnet-4.5'] }]);
  });

  it('an instance that starts later with an older file takes the shared accounts', async () => {
    const c = await instance({ staleFile: true });
    try {
      const ids = (await admin(c, 'GET', '/accounts')).accounts.map((x: any) => x.id);
      expect(ids).toEqual(expect.arrayContaining(['k-one', 'k-two', 'k-three']));
      expect((await admin(c, 'GET', '/config')).store.accounts.find((x: any) => x.id === 'k-one').credentials.refresh_token).toBe(fake.refreshTokenOf('rt-x-one'));
    } finally {
      await c.close();
    }
  });

  it('one rate limit counts the requests of both instances', async () => {
    const models = (s: TestStack) => fetch(`${s.url}/v1/models`).then((r) => r.status);
    const statuses = [await models(a), await models(b), await models(a), await models(b), await models(a), await models(b)];
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    expect(await models(a)).toBe(429);
    expect(await redis.client.keys('test:rl:models:*')).not.toEqual([]);
  });
});
