/** One contract, two homes: the in-memory state and the Redis state behave the same. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SharedState } from '../../src/state/shared-state.js';
import { MemoryState } from '../../src/state/memory-state.js';
import { RedisState } from '../../src/state/redis-state.js';
import { ResilientState } from '../../src/state/resilient-state.js';
import { pino } from 'pino';
import { hasRedisServer, startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis | undefined;
const made: SharedState[] = [];
beforeAll(async () => {
  if (hasRedisServer()) redis = await startRedis();
});
afterAll(async () => {
  for (const s of made) await s.close();
  await redis?.close();
});

const homes: [string, () => Promise<SharedState>][] = [
  ['memory', async () => new MemoryState()],
  ['redis', async () => RedisState.connect(redis!.url, `t${made.length}:`)],
  // Redis behind the deadline and fallback the server uses (a deadline no loaded machine misses)
  ['resilient', async () => ResilientState.create(await RedisState.connect(redis!.url, `t${made.length}:`), { deadlineMs: 5_000, log: pino({ level: 'silent' }) })],
];

// the redis home runs wherever redis-server is installed (always in CI: .ci/run installs it)
describe.each(homes.filter(([kind]) => kind === 'memory' || hasRedisServer()))('%s state', (_kind, make) => {
  const state = async () => {
    const s = await make();
    made.push(s);
    return s;
  };

  it('JSON values with lifetimes, scan by prefix, delete, counters', async () => {
    const s = await state();
    await s.setJson('a:1', { x: 1 });
    await s.setJson('a:2', [2], 80);
    await s.setJson('b:1', 'other');
    expect(await s.getJson('a:1')).toEqual({ x: 1 });
    expect((await s.scanJson('a:')).sort()).toEqual([['a:1', { x: 1 }], ['a:2', [2]]]);
    await new Promise((r) => setTimeout(r, 150));
    expect(await s.getJson('a:2')).toBeUndefined();
    await s.del('a:1');
    expect(await s.scanJson('a:')).toEqual([]);
    expect([await s.incr('n'), await s.incr('n'), await s.incr('n')]).toEqual([1, 2, 3]);
  });

  it('a lock has one holder, is released only by its token, and expires', async () => {
    const s = await state();
    const t1 = await s.tryLock('l', 100);
    expect(t1).toBeTruthy();
    expect(await s.tryLock('l', 100)).toBeUndefined();
    await s.unlock('l', 'not-the-token');
    expect(await s.tryLock('l', 100)).toBeUndefined();
    await s.unlock('l', t1!);
    const t2 = await s.tryLock('l', 60);
    expect(t2).toBeTruthy();
    await new Promise((r) => setTimeout(r, 120));
    expect(await s.tryLock('l', 60)).toBeTruthy();
  });

  it('a window counter adds atomically and its lifetime starts at its first add', async () => {
    const s = await state();
    const adds = await Promise.all(Array.from({ length: 20 }, () => s.incrWindow('w', 5, 150)));
    expect(adds.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => (i + 1) * 5));
    await new Promise((r) => setTimeout(r, 60));
    expect(await s.incrWindow('w', 1, 150)).toBe(101); // a later add does not extend the window
    await new Promise((r) => setTimeout(r, 150));
    expect(await s.incrWindow('w', 3, 150)).toBe(3);
  });

  it('slots: exactly `limit` holders at once, renewed by their holder, freed on release or when the lease ends', async () => {
    const s = await state();
    const taken = await Promise.all(Array.from({ length: 7 }, (_, i) => s.takeSlot('sem', `r${i}`, 3, 10_000)));
    expect(taken.filter(Boolean)).toHaveLength(3);
    expect(await s.countSlots('sem')).toBe(3);
    const holder = `r${taken.indexOf(true)}`;
    expect(await s.takeSlot('sem', holder, 3, 10_000)).toBe(true); // a renewal, not a fourth slot
    expect(await s.takeSlot('sem', 'late', 3, 10_000)).toBe(false);
    await s.releaseSlot('sem', holder);
    expect(await s.takeSlot('sem', 'late', 3, 10_000)).toBe(true);
    expect(await s.takeSlot('short', 'a', 1, 80)).toBe(true);
    expect(await s.takeSlot('short', 'b', 1, 80)).toBe(false);
    await new Promise((r) => setTimeout(r, 150));
    expect(await s.takeSlot('short', 'b', 1, 80)).toBe(true); // a's lease ended: its holder died
  });

  it('published messages reach subscribers', async () => {
    const s = await state();
    const got: Record<string, unknown>[] = [];
    await s.subscribe('ch', (m) => got.push(m));
    await s.publish('ch', { from: s.instanceId, n: 1 });
    await expect.poll(() => got).toEqual([{ from: s.instanceId, n: 1 }]);
  });
});

describe.skipIf(!hasRedisServer())('redis state', () => {
  it('an unreachable Redis is a start-up error naming REDIS_URL', async () => {
    await expect(RedisState.connect('redis://127.0.0.1:1', 'x:')).rejects.toThrow(/Cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(REDIS_URL\)/);
  });
});
