/**
 * Client keys across two cligate instances on one real redis-server: a key made on one is
 * accepted by the other at once, its limits are one count for both (requests per minute and
 * requests in flight exact under concurrency split across the instances, tokens per day), and
 * a revocation on one is refused by the other. The store files of both end up holding the key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { startStack, type TestStack } from '../helpers/server.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai.js';
import { hasRedisServer, startRedis, type TestRedis } from '../helpers/redis.js';
import { dataDirWithStore } from '../helpers/accounts.js';
import { adminApi, type AdminCall } from '../helpers/admin.js';

const available = hasRedisServer();
if (!available && process.env.CI) throw new Error('redis-server is missing: .ci/run installs it');

const PASSWORD = 'multi-admin-keys';
let redis: TestRedis;
let upstream: FakeOpenAI;
let a: TestStack;
let b: TestStack;
const dirs: string[] = [];

async function instance(): Promise<TestStack> {
  const dataDir = await dataDirWithStore('keys-multi', {});
  dirs.push(dataDir);
  return startStack({
    DATA_DIR: dataDir,
    REDIS_URL: redis.url,
    REDIS_PREFIX: 'keys:',
    ADMIN_PASSWORD: PASSWORD,
    API_KEY: 'sk-multi-master',
    OPENAI_COMPATIBLE_BASE_URL: `${upstream.url}/v1`,
    OPENAI_COMPATIBLE_MODELS: 'local-llama',
  });
}

const sessions = new Map<TestStack, AdminCall>();
async function admin(s: TestStack, method: string, p: string, body?: unknown): Promise<any> {
  if (!sessions.has(s)) sessions.set(s, adminApi(() => s.url, PASSWORD));
  return (await sessions.get(s)!(method, p, body)).body;
}

const chat = (s: TestStack, key: string, stream = false) =>
  fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'local-llama', stream, messages: [{ role: 'user', content: 'hi' }] }) });

describe.skipIf(!available)('client keys on two instances', () => {
  beforeAll(async () => {
    redis = await startRedis();
    upstream = await startFakeOpenAI({ reply: 'hello', usage: { prompt_tokens: 10, completion_tokens: 5 } });
    a = await instance();
    b = await instance();
  }, 60_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await upstream?.close();
    await redis?.close();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('made on one, accepted by the other at once; both files hold it', async () => {
    const made = await admin(a, 'POST', '/keys', { name: 'shared-one' });
    expect((await chat(b, made.secret)).status).toBe(200);
    for (const s of [a, b]) {
      const file = await readFile(path.join(dirs[s === a ? 0 : 1]!, 'accounts.json'), 'utf8');
      await expect.poll(async () => (await readFile(path.join(dirs[s === a ? 0 : 1]!, 'accounts.json'), 'utf8')).includes(made.key.id)).toBe(true);
      expect(file).not.toContain(made.secret);
    }
    expect((await admin(b, 'GET', '/keys')).keys.map((k: any) => k.name)).toContain('shared-one');
  });

  it('requests per minute: one count for both instances, exact under concurrency', async () => {
    const made = await admin(a, 'POST', '/keys', { name: 'rpm-shared', limits: { requestsPerMinute: 5 } });
    // away from a minute's edge, so all 14 fall in one window
    const s = new Date().getSeconds();
    if (s > 50) await new Promise((r) => setTimeout(r, (61 - s) * 1000));
    const statuses = await Promise.all(Array.from({ length: 14 }, (_, i) => chat(i % 2 ? a : b, made.secret).then((r) => r.status)));
    expect(statuses.filter((x) => x === 200)).toHaveLength(5);
    expect(statuses.filter((x) => x === 429)).toHaveLength(9);
  }, 30_000);

  it('requests in flight: one set of slots for both; a slot freed on one is taken on the other', async () => {
    const made = await admin(b, 'POST', '/keys', { name: 'inflight-shared', limits: { concurrent: 3 } });
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    upstream.setScript({ reply: 'held answer', usage: { prompt_tokens: 1, completion_tokens: 1 }, gate: () => gate });
    const started = Array.from({ length: 8 }, (_, i) => chat(i % 2 ? a : b, made.secret, true));
    const settled = await Promise.all(started.map((p) => Promise.race([p.then((r) => r.status), new Promise<'held'>((r) => setTimeout(() => r('held'), 2000))])));
    // admitted: held open by the upstream (headers sent or not yet); the rest refused at once
    expect(settled.filter((x) => x === 'held' || x === 200), JSON.stringify(settled)).toHaveLength(3);
    expect(settled.filter((x) => x === 429)).toHaveLength(5);
    open();
    await Promise.all((await Promise.all(started)).map((r) => r.text()));
    upstream.setScript({ reply: 'hello', usage: { prompt_tokens: 10, completion_tokens: 5 } });
    await expect.poll(async () => (await admin(a, 'GET', `/keys/${made.key.id}/usage?hours=1`)).use.inFlight).toBe(0);
    expect((await chat(a, made.secret)).status).toBe(200);
  }, 30_000);

  it('tokens per day counted across instances; revoked on one, refused by the other', async () => {
    const made = await admin(a, 'POST', '/keys', { name: 'tokens-shared', limits: { tokensPerDay: 40 } });
    expect((await chat(a, made.secret)).status).toBe(200); // 15
    expect((await chat(b, made.secret)).status).toBe(200); // 30
    expect((await chat(a, made.secret)).status).toBe(200); // 45: over, counted after
    await expect.poll(async () => (await admin(b, 'GET', `/keys/${made.key.id}/usage?hours=1`)).use.tokensToday).toBe(45);
    const refused = await chat(b, made.secret);
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as any).error.code).toBe('key_tokens_per_day');

    const other = await admin(b, 'POST', '/keys', { name: 'revoked-shared' });
    expect((await chat(a, other.secret)).status).toBe(200);
    await admin(b, 'POST', `/keys/${other.key.id}/revoke`);
    await expect.poll(async () => (await chat(a, other.secret)).status).toBe(401);
    expect(((await (await chat(a, other.secret)).json()) as any).error.code).toBe('api_key_revoked');
  });
});
