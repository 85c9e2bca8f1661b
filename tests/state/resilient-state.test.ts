/**
 * Redis behind a deadline with this process's memory as the fallback, on a real redis-server that is
 * frozen (SIGSTOP), killed and started again empty, and flushed: operations keep answering within the
 * deadline, the outage is one warning line and its end another, what was written meanwhile reaches
 * Redis, each owner's resync runs (told when Redis came back empty), rate limits count locally.
 * Times are only ever bounded by the configured deadline plus a wide margin.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { Options } from 'express-rate-limit';
import { RedisState } from '../../src/state/redis-state.js';
import { ResilientState } from '../../src/state/resilient-state.js';
import type { ResyncReason, SharedState } from '../../src/state/shared-state.js';
import { hasRedisServer, startRedis, type TestRedis } from '../helpers/redis.js';

const available = hasRedisServer();
if (!available && process.env.CI) throw new Error('redis-server is missing: .ci/run installs it');

const DEADLINE_MS = 50;
/** what a loaded test machine may add on top of the deadline */
const MARGIN_MS = 500;

let redis: TestRedis;
let made: ResilientState[] = [];
let prefixes = 0;

beforeAll(async () => {
  if (available) redis = await startRedis();
});
afterEach(async () => {
  // a test that failed with the server frozen or down leaves the next one a working server
  redis?.resume();
  await redis?.start();
  for (const s of made) await s.close();
  made = [];
});
afterAll(async () => {
  await redis?.close();
});

async function resilient(): Promise<{ s: ResilientState; lines: Record<string, unknown>[]; prefix: string }> {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
  const prefix = `res${prefixes++}:`;
  const s = await ResilientState.create(await RedisState.connect(redis.url, prefix), { deadlineMs: DEADLINE_MS, log, heartbeatMs: 200, probeMs: 50, graceMs: 300 });
  made.push(s);
  return { s, lines, prefix };
}

const events = (lines: Record<string, unknown>[], event: string) => lines.filter((l) => l.event === event);

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const out = await work();
  return [out, performance.now() - t];
}

describe.skipIf(!available)('Redis behind a deadline, with this process as the fallback', () => {
  it('a frozen Redis: each operation answers within the deadline; one "degraded" line, one "recovered" line; what was written meanwhile is in Redis after', async () => {
    const { s, lines, prefix } = await resilient();
    await s.setJson('before', 1);
    redis.pause();
    const [, first] = await timed(() => s.setJson('during', { v: 2 }, 60_000));
    expect(first).toBeLessThan(DEADLINE_MS + MARGIN_MS);
    expect(s.health()).toBe('degraded');
    // from now on at once, from this process
    for (let i = 0; i < 20; i++) {
      const [v, ms] = await timed(() => s.getJson('during'));
      expect(v).toEqual({ v: 2 });
      expect(ms).toBeLessThan(DEADLINE_MS);
    }
    expect(await s.incr('n')).toBe(1);
    expect(await s.tryLock('lock', 10_000)).toBeTruthy();
    await s.publish('ch', { x: 1 }); // dropped, not waited for
    await expect.poll(() => events(lines, 'shared-state-degraded').length, { timeout: 5_000 }).toBe(1);
    expect(events(lines, 'shared-state-degraded')[0]).toMatchObject({ level: 40, redis: 'degraded', deadlineMs: DEADLINE_MS });
    redis.resume();
    await expect.poll(() => s.health(), { timeout: 5_000 }).toBe('ok');
    await expect.poll(() => events(lines, 'shared-state-recovered').length).toBe(1);
    expect(events(lines, 'shared-state-recovered')[0]).toMatchObject({ level: 40, redis: 'ok', redisWasEmpty: false, republished: { replayed: 1 } });
    expect(JSON.parse((await redis.client.get(`${prefix}during`))!)).toEqual({ v: 2 });
    expect(await redis.client.pttl(`${prefix}during`)).toBeGreaterThan(50_000);
    expect(await s.getJson('before')).toBe(1);
    expect(events(lines, 'shared-state-degraded')).toHaveLength(1);
  });

  it('Redis killed and started empty: written keys go back in (what its owner puts back is left to it), each owner resyncs and is told Redis was empty', async () => {
    const { s, lines, prefix } = await resilient();
    const calls: ResyncReason[] = [];
    s.onResync(['own:'], async (remote: SharedState, why) => {
      calls.push(why);
      await remote.setJson('own:held', 'by the owner');
      return { owned: 1 };
    });
    await redis.kill();
    const [, ms] = await timed(() => s.setJson('gen', 'kept'));
    expect(ms).toBeLessThan(DEADLINE_MS + MARGIN_MS);
    await s.setJson('own:written', 'not replayed');
    await s.del('gone');
    await expect.poll(() => events(lines, 'shared-state-degraded').length, { timeout: 5_000 }).toBe(1);
    await redis.start();
    await expect.poll(() => s.health(), { timeout: 10_000 }).toBe('ok');
    await expect.poll(() => events(lines, 'shared-state-recovered').length).toBe(1);
    expect(calls).toEqual(['lost']);
    expect(events(lines, 'shared-state-recovered')[0]).toMatchObject({ redisWasEmpty: true, republished: { replayed: 2, owned: 1 } });
    expect(await redis.client.get(`${prefix}gen`)).toBe('"kept"');
    expect(await redis.client.get(`${prefix}own:held`)).toBe('"by the owner"');
    expect(await redis.client.get(`${prefix}own:written`)).toBeNull();
    // the instance's marker is back: a later heartbeat finds nothing lost
    await new Promise((r) => setTimeout(r, 500));
    expect(calls).toEqual(['lost']);
  });

  it('Redis flushed while it answers: the heartbeat notices and every owner republishes, in one line', async () => {
    const { s, lines } = await resilient();
    const calls: ResyncReason[] = [];
    s.onResync(['own:'], async (_remote, why) => {
      calls.push(why);
      return { owned: 3 };
    });
    await redis.client.flushall();
    await expect.poll(() => calls, { timeout: 5_000 }).toEqual(['lost']);
    expect(events(lines, 'shared-state-republished')).toEqual([expect.objectContaining({ redisWasEmpty: true, republished: { owned: 3 } })]);
    expect(events(lines, 'shared-state-degraded')).toEqual([]);
    expect(s.health()).toBe('ok');
  });

  it('rate limits while Redis is away count in this process (never off), and in Redis again when it is back', async () => {
    const { s } = await resilient();
    const store = s.rateLimitStore('t');
    store.init?.({ windowMs: 60_000 } as Options);
    expect((await store.increment('client')).totalHits).toBe(1);
    expect((await store.increment('client')).totalHits).toBe(2);
    await redis.kill();
    const hits = [];
    for (let i = 0; i < 3; i++) hits.push((await store.increment('client')).totalHits);
    expect(hits).toEqual([1, 2, 3]);
    await redis.start();
    await expect.poll(() => s.health(), { timeout: 10_000 }).toBe('ok');
    expect((await store.increment('client')).totalHits).toBe(1); // the restarted Redis's own count
  });

  it('an error Redis answered (a wrong type) is the caller\'s, not an outage', async () => {
    const { s } = await resilient();
    await s.setJson('text', 'x');
    await expect(s.incr('text')).rejects.toThrow(/not an integer/);
    expect(s.health()).toBe('ok');
  });
});
