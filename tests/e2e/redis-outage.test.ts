/**
 * Two cligate processes (as `npm start` runs them, JSON logs on a pipe) on one real redis-server,
 * Kiro accounts behind one fake Kiro, taken through what a Redis outage does, under load:
 *
 * - Redis frozen (SIGSTOP) for 3 s: no request waits for it longer than REDIS_DEADLINE_MS plus a wide
 *   margin over the same requests with Redis up, in this run;
 * - Redis killed: /health says degraded (200), the metric is 0, rate limits count per instance (5 allowed
 *   on each, then 429: never off), admin changes are made on each instance;
 * - Redis started again empty: the changes reach the other instance, both files end equal, and the
 *   account store, health states and tokens are back in Redis without a restart; an instance started
 *   then loads all of it;
 * - each instance logged exactly one "degraded" and one "recovered" line per outage, and nothing but
 *   JSON lines in the whole run.
 * .ci/run installs redis-server; elsewhere the test is skipped when it is missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawnServer, type ServerProcess } from '../helpers/server-process.js';
import { startFakeKiro, type FakeKiro, kiroEnv } from '../fakes/kiro.js';
import { kiroSocial } from '../helpers/accounts.js';
import { hasRedisServer, startRedis, type TestRedis } from '../helpers/redis.js';

const available = hasRedisServer();
if (!available && process.env.CI) throw new Error('redis-server is missing: .ci/run installs it');

const PASSWORD = 'outage-admin';
const DEADLINE_MS = 50;
/** what a loaded test machine may add to one request beyond the slowest of the same requests with Redis up */
const MARGIN_MS = 750;
const PREFIX = 'out:';

let redis: TestRedis;
let fake: FakeKiro;
let a: ServerProcess;
let b: ServerProcess;
let late: ServerProcess | undefined;
const homes: string[] = [];
const stopped: ServerProcess[] = [];

async function instance(store?: object): Promise<ServerProcess> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'cligate-outage-home-'));
  homes.push(home);
  if (store) {
    await mkdir(path.join(home, 'data'), { recursive: true });
    await writeFile(path.join(home, 'data', 'accounts.json'), JSON.stringify(store));
  }
  return spawnServer({
    HOME: home,
    PATH: process.env.PATH ?? '',
    REDIS_URL: redis.url,
    REDIS_PREFIX: PREFIX,
    REDIS_DEADLINE_MS: String(DEADLINE_MS),
    ADMIN_PASSWORD: PASSWORD,
    RATE_LIMIT_ENABLED: 'true',
    RATE_LIMIT_COUNT_TOKENS_PER_MINUTE: '5',
    RATE_LIMIT_CHAT_PER_MINUTE: '100000',
    RATE_LIMIT_HEALTH_PER_MINUTE: '100000',
    RATE_LIMIT_MODELS_PER_MINUTE: '100000',
    METRICS_PUBLIC: 'true',
    ACCOUNT_COOLDOWN_BASE: '600',
    LOG_FORMAT: 'json',
    ...kiroEnv(fake),
  });
}

const storeFile = (s: ServerProcess) => path.join(homes[[a, b, late].indexOf(s)]!, 'data', 'accounts.json');
const lines = (s: ServerProcess) =>
  s
    .output()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
const events = (s: ServerProcess, event: string) => lines(s).filter((l) => l.event === event);

async function chat(s: ServerProcess, content: string): Promise<number> {
  const r = await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude-sonnet-4.5', messages: [{ role: 'user', content }] }) });
  await r.arrayBuffer();
  return r.status;
}

async function timedChat(s: ServerProcess, content: string): Promise<number> {
  const t = performance.now();
  expect(await chat(s, content)).toBe(200);
  return performance.now() - t;
}

const countTokens = (s: ServerProcess) =>
  fetch(`${s.url}/v1/messages/count_tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude-sonnet-4.5', messages: [{ role: 'user', content: 'count me' }] }) }).then(async (r) => (await r.arrayBuffer(), r.status));

const health = async (s: ServerProcess) => ((await (await fetch(`${s.url}/health`)).json()) as { status: string; redis?: string }).redis;
const upMetric = async (s: ServerProcess) => /^cligate_shared_state_up (\d)/m.exec(await (await fetch(`${s.url}/metrics`)).text())?.[1];

const tokens = new Map<ServerProcess, string>();
async function admin(s: ServerProcess, method: string, p: string, body?: unknown): Promise<any> {
  if (!tokens.has(s)) tokens.set(s, ((await (await fetch(`${s.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: PASSWORD }) })).json()) as any).token);
  const r = await fetch(`${s.url}/api${p}`, { method, headers: { authorization: `Bearer ${tokens.get(s)}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  return r.json();
}

const stored = async (s: ServerProcess) => JSON.parse(await readFile(storeFile(s), 'utf8')) as { accounts: { id: string; weight: number; label?: string }[] };
const redisKeys = async (pattern: string) => (await redis.client.keys(`${PREFIX}${pattern}`)).map((k) => k.slice(PREFIX.length)).sort();

/** requests kept running on both instances from start() to stop(): every status they got */
function load() {
  let running = true;
  const statuses: number[] = [];
  const loops = [a, b].map(async (s, i) => {
    for (let n = 0; running; n++) statuses.push(await chat(s, `load ${i} ${n}`).catch(() => 0));
  });
  return {
    statuses,
    async stop() {
      running = false;
      await Promise.all(loops);
      return statuses;
    },
  };
}

describe.skipIf(!available)('two instances through Redis outages', () => {
  beforeAll(async () => {
    redis = await startRedis();
    fake = await startFakeKiro([
      { refresh_token: 'rt-o-one', auth_method: 'social' },
      { refresh_token: 'rt-o-two', auth_method: 'social' },
      { refresh_token: 'rt-o-three', auth_method: 'social' },
    ]);
    const store = { providers: { kiro: { strategy: 'round-robin' } }, accounts: kiroSocial({ 'o-one': 'rt-o-one', 'o-two': 'rt-o-two', 'o-three': 'rt-o-three' }) };
    a = await instance(store);
    b = await instance(store);
  }, 60_000);

  afterAll(async () => {
    for (const s of [a, b, late]) {
      if (!s || stopped.includes(s)) continue;
      s.child.kill('SIGTERM');
      await s.exited;
    }
    await fake?.close();
    await redis?.close();
    for (const h of homes) await rm(h, { recursive: true, force: true });
  });

  it('with Redis up: tokens, a cooldown and the account store are in Redis', async () => {
    for (let i = 0; i < 4; i++) expect(await chat(i % 2 ? b : a, `warm ${i}`)).toBe(200);
    // o-three rests for 10 minutes after a 429 on A (round-robin: within three requests): a health state to share
    const asked = fake.count('/generateAssistantResponse', 'rt-o-three');
    fake.setScript({ status: { 'rt-o-three': 429 }, retryAfter: 600 });
    for (let i = 0; i < 3; i++) expect(await chat(a, `cool ${i}`)).toBe(200);
    fake.setScript({});
    expect(fake.count('/generateAssistantResponse', 'rt-o-three')).toBe(asked + 1);
    await expect.poll(async () => (await admin(b, 'GET', '/accounts/o-three')).state.usable).toBe(false);
    expect(await redisKeys('accounts:account:*')).toEqual(['accounts:account:o-one', 'accounts:account:o-three', 'accounts:account:o-two']);
    expect(await redisKeys('health:kiro:*')).toContain('health:kiro:o-three');
    expect(await redisKeys('token:kiro:*')).toEqual(expect.arrayContaining(['token:kiro:o-one', 'token:kiro:o-two']));
    expect([await health(a), await health(b)]).toEqual(['ok', 'ok']);
    expect([await upMetric(a), await upMetric(b)]).toEqual(['1', '1']);
  });

  it(`Redis frozen for 3 s: no request waits longer than the deadline (${DEADLINE_MS} ms) plus a wide margin over the same requests with Redis up; one "degraded" and one "recovered" line on each instance`, async () => {
    const up: number[] = [];
    for (let i = 0; i < 16; i++) up.push(await timedChat(i % 2 ? b : a, `up ${i}`));
    redis.pause();
    const paused: number[] = [];
    const until = Date.now() + 3_000;
    // two requests at a time, one on each instance, for the 3 s
    await Promise.all(
      [a, b].map(async (s, i) => {
        for (let n = 0; Date.now() < until; n++) paused.push(await timedChat(s, `frozen ${i} ${n}`));
      }),
    );
    redis.resume();
    const sorted = (x: number[]) => [...x].sort((p, q) => p - q);
    const median = (x: number[]) => sorted(x)[Math.floor(x.length / 2)]!;
    console.log(`latency with Redis up: median ${median(up).toFixed(0)} ms, worst ${Math.max(...up).toFixed(0)} ms (${up.length}); frozen: median ${median(paused).toFixed(0)} ms, worst ${Math.max(...paused).toFixed(0)} ms (${paused.length})`);
    expect(Math.max(...paused)).toBeLessThan(Math.max(...up) + DEADLINE_MS + MARGIN_MS);
    await expect.poll(async () => [await health(a), await health(b)], { timeout: 10_000 }).toEqual(['ok', 'ok']);
    for (const s of [a, b]) {
      await expect.poll(() => events(s, 'shared-state-recovered').length).toBe(1);
      expect(events(s, 'shared-state-degraded')).toHaveLength(1);
      expect(events(s, 'shared-state-recovered')[0]).toMatchObject({ redis: 'ok', redisWasEmpty: false });
    }
  });

  it('Redis killed under load: /health says degraded (200) and the metric 0; rate limits count per instance, 5 on each, never off; admin changes on both instances; started again empty: both reach the other instance, store, health and tokens are back in Redis', async () => {
    const traffic = load();
    await redis.kill();
    await expect.poll(async () => [await health(a), await health(b)], { timeout: 10_000 }).toEqual(['degraded', 'degraded']);
    expect((await fetch(`${a.url}/health`)).status).toBe(200);
    expect([await upMetric(a), await upMetric(b)]).toEqual(['0', '0']);
    for (const s of [a, b]) {
      const statuses = [];
      for (let i = 0; i < 6; i++) statuses.push(await countTokens(s));
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    }
    // an account's weight on A, another's label on B, and an account added on B
    expect((await admin(a, 'PATCH', '/accounts/o-one', { weight: 7 })).weight).toBe(7);
    expect((await admin(b, 'PATCH', '/accounts/o-two', { label: 'changed on B' })).label).toBe('changed on B');
    expect((await admin(b, 'POST', '/accounts', { id: 'o-four', provider: 'kiro', credentials: { refresh_token: 'rt-o-one', auth_method: 'social' } })).id).toBe('o-four');
    expect((await stored(b)).accounts.find((x) => x.id === 'o-one')!.weight).toBe(100);
    // an outage, not a blip: each instance has said so (a gap shorter than a second is resynced without a line)
    for (const s of [a, b]) await expect.poll(() => events(s, 'shared-state-degraded').length, { timeout: 10_000 }).toBe(2);
    await redis.start();
    const back = performance.now();
    await expect.poll(async () => [await health(a), await health(b)], { timeout: 10_000 }).toEqual(['ok', 'ok']);
    const view = async (s: ServerProcess) => (await stored(s)).accounts.map((x) => `${x.id}:${x.weight}:${x.label ?? ''}`).sort();
    await expect.poll(() => view(a), { timeout: 5_000 }).toEqual(['o-four:100:', 'o-one:7:', 'o-three:100:', 'o-two:100:changed on B']);
    await expect.poll(() => view(b), { timeout: 5_000 }).toEqual(await view(a));
    console.log(`Redis back empty: both instances resynced, files equal, within ${(performance.now() - back).toFixed(0)} ms (polled)`);
    expect(await redisKeys('accounts:account:*')).toEqual(['accounts:account:o-four', 'accounts:account:o-one', 'accounts:account:o-three', 'accounts:account:o-two']);
    expect(await redisKeys('accounts:meta')).toEqual(['accounts:meta']);
    expect(await redisKeys('health:kiro:*')).toContain('health:kiro:o-three');
    expect(await redisKeys('token:kiro:*')).toEqual(expect.arrayContaining(['token:kiro:o-one', 'token:kiro:o-two']));
    const statuses = await traffic.stop();
    expect(statuses.length).toBeGreaterThan(10);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    for (const s of [a, b]) {
      await expect.poll(() => events(s, 'shared-state-recovered').length).toBe(2);
      expect(events(s, 'shared-state-degraded')).toHaveLength(2);
      expect(events(s, 'shared-state-recovered')[1]).toMatchObject({ redis: 'ok', redisWasEmpty: true });
    }
  });

  it('an instance started after the outage, with no store of its own, loads all of it: the changes, the cooldown', async () => {
    late = await instance();
    const accounts = (await admin(late, 'GET', '/accounts')).accounts as { id: string; weight: number; label?: string; state: { usable: boolean; coolUntil?: number } }[];
    expect(accounts.map((x) => `${x.id}:${x.weight}:${x.label ?? ''}`).sort()).toEqual(['o-four:100:', 'o-one:7:', 'o-three:100:', 'o-two:100:changed on B']);
    expect(accounts.find((x) => x.id === 'o-three')!.state.coolUntil).toBeGreaterThan(Date.now() + 60_000);
    expect(await chat(late, 'late')).toBe(200);
  });

  it('the whole run logged JSON lines only, none of them an error', async () => {
    for (const s of [a, b, late!]) {
      s.child.kill('SIGTERM');
      expect(await s.exited).toBe(0);
      stopped.push(s);
      const all = s.output().split('\n').filter(Boolean);
      const unstructured = all.filter((l) => {
        try {
          return typeof JSON.parse(l) !== 'object';
        } catch {
          return true;
        }
      });
      expect(unstructured).toEqual([]);
      expect(lines(s).filter((l) => (l.level as number) >= 50)).toEqual([]);
    }
    expect(events(late!, 'shared-state-degraded')).toEqual([]);
  });
});
