/** WorkerPool: bounds, FIFO hand-over, queue refusal, abandonment, timeouts, drain. */
import { describe, expect, it } from 'vitest';
import { WorkerPool, type Release } from '../../src/runtime/pool.js';
import { CligateError } from '../../src/core/errors.js';

/** let timers and promise chains settle (no assertion ever depends on how long this takes) */
const tick = (ms = 10) => new Promise((r) => setTimeout(r, ms));
const never = () => new AbortController().signal;

/** a promise's state without waiting for it */
function track<T>(p: Promise<T>) {
  const s: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  p.then(
    (v) => {
      s.settled = true;
      s.value = v;
    },
    (e: unknown) => {
      s.settled = true;
      s.error = e;
    },
  );
  return s;
}

describe('WorkerPool: bounds and order', () => {
  it('never lets more than `concurrency` holders run at once, and every request eventually runs', async () => {
    const pool = new WorkerPool({ concurrency: 3, queueLimit: 20, queueTimeoutMs: 30_000 });
    let active = 0;
    let peak = 0;
    const done: number[] = [];
    const work = async (i: number) => {
      const release = await pool.acquire(never());
      active += 1;
      peak = Math.max(peak, active);
      expect(pool.stats().running).toBeLessThanOrEqual(3);
      await tick(5 + (i % 3) * 5);
      active -= 1;
      done.push(i);
      release();
    };
    await Promise.all(Array.from({ length: 10 }, (_, i) => work(i)));
    expect(peak).toBe(3);
    expect(done.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await tick();
    expect(pool.stats()).toEqual({ running: 0, waiting: 0, concurrency: 3, queueLimit: 20 });
  });

  it('holders beyond concurrency wait, and each released slot goes to the longest waiter (FIFO)', async () => {
    const pool = new WorkerPool({ concurrency: 2, queueLimit: 10, queueTimeoutMs: 30_000 });
    const r1 = await pool.acquire(never());
    const r2 = await pool.acquire(never());
    const granted: number[] = [];
    const waiters = [3, 4, 5].map((n) => pool.acquire(never()).then((r) => (granted.push(n), r)));
    await tick();
    expect(pool.stats()).toMatchObject({ running: 2, waiting: 3 });
    expect(granted).toEqual([]);

    r2(); // released out of acquisition order: still the first waiter gets it
    const r3 = await waiters[0]!;
    await tick();
    expect(granted).toEqual([3]);
    expect(pool.stats()).toMatchObject({ running: 2, waiting: 2 });

    r1();
    const r4 = await waiters[1]!;
    await tick();
    expect(granted).toEqual([3, 4]);
    expect(pool.stats()).toMatchObject({ running: 2, waiting: 1 });

    r3();
    const r5 = await waiters[2]!;
    expect(granted).toEqual([3, 4, 5]);
    r4();
    r5();
    await tick();
    expect(pool.stats()).toMatchObject({ running: 0, waiting: 0 });
  });

  it('a free slot is granted without waiting on anything else', async () => {
    const pool = new WorkerPool({ concurrency: 1, queueLimit: 0, queueTimeoutMs: 30_000 });
    const release = await pool.acquire(never());
    expect(pool.stats().running).toBe(1);
    release();
    await tick();
    (await pool.acquire(never()))();
  });
});

describe('WorkerPool: refusal when the queue is full', () => {
  it('rejects at once with 429 queue_full and a Retry-After, without queueing the request', async () => {
    const pool = new WorkerPool({ concurrency: 1, queueLimit: 2, queueTimeoutMs: 8_000 });
    const held = await pool.acquire(never());
    const w1 = track(pool.acquire(never()));
    const w2 = track(pool.acquire(never()));
    await tick();
    expect(pool.stats().waiting).toBe(2);

    // the held slot is never released while we wait here, so this only settles if refused at once
    const err = await pool.acquire(never()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CligateError);
    expect(err).toMatchObject({ status: 429, code: 'queue_full', kind: 'rate_limited' });
    const retryAfter = (err as CligateError).retryAfter;
    expect(retryAfter).toBe(2); // ceil(8 s / 4)
    expect((err as CligateError).message).toMatch(/queue is full/);
    expect(pool.stats().waiting).toBe(2);
    expect(w1.settled || w2.settled).toBe(false);

    held();
    await tick();
    expect(w1.settled && w1.error === undefined).toBe(true);
    (w1.value as Release)();
    await tick();
    expect(w2.settled && w2.error === undefined).toBe(true);
    (w2.value as Release)();
  });

  it('also refuses synchronous bursts: the first runs, queueLimit wait, the rest get queue_full', async () => {
    const pool = new WorkerPool({ concurrency: 1, queueLimit: 1, queueTimeoutMs: 30_000 });
    const a = track(pool.acquire(never()));
    const b = track(pool.acquire(never()));
    const c = pool.acquire(never()).catch((e: unknown) => e);
    expect(await c).toMatchObject({ status: 429, code: 'queue_full' });
    await tick();
    expect(a.settled && a.error === undefined).toBe(true);
    expect(b.settled).toBe(false);
    expect(pool.stats()).toMatchObject({ running: 1, waiting: 1 });
    (a.value as Release)();
    await tick();
    expect(b.settled && b.error === undefined).toBe(true);
    (b.value as Release)();
  });

  it('retryAfter is at least 1 second even for a short queue timeout', async () => {
    const pool = new WorkerPool({ concurrency: 1, queueLimit: 0, queueTimeoutMs: 100 });
    const held = await pool.acquire(never());
    const err = await pool.acquire(never()).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 429, code: 'queue_full', retryAfter: 1 });
    held();
  });
});

describe('WorkerPool: requests whose client leaves', () => {
  it('a waiting request whose signal aborts leaves the queue, never runs, and the slot goes to the next waiter', async () => {
    const pool = new WorkerPool({ concurrency: 1, queueLimit: 5, queueTimeoutMs: 30_000 });
    const held = await pool.acquire(never());
    const leaving = new AbortController();
    let leftRan = false;
    const left = pool.acquire(leaving.signal).then((r) => {
      leftRan = true;
      return r;
    });
    let nextRan = false;
    const next = pool.acquire(never()).then((r) => ((nextRan = true), r));
    await tick();
    expect(pool.stats().waiting).toBe(2);

    leaving.abort();
    const err = await left.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CligateError);
    expect(err).toMatchObject({ status: 499, code: 'client_closed_request' });
    expect(pool.stats()).toMatchObject({ running: 1, waiting: 1 });

    held();
    const r = await next;
    expect(nextRan).toBe(true);
    expect(leftRan).toBe(false);
    expect(pool.stats()).toMatchObject({ running: 1, waiting: 0 });
    r();
    await tick();
    expect(leftRan).toBe(false);
    expect(pool.stats()).toMatchObject({ running: 0, waiting: 0 });
  });

  it('an abort whose reason is a CligateError rejects with that error', async () => {
    const pool = new WorkerPool({ concurrency: 1, queueLimit: 5, queueTimeoutMs: 30_000 });
    const held = await pool.acquire(never());
    const ctl = new AbortController();
    const waiting = pool.acquire(ctl.signal).catch((e: unknown) => e);
    const reason = new CligateError('timeout', 504, 'request budget spent', { code: 'request_timeout' });
    ctl.abort(reason);
    expect(await waiting).toBe(reason);
    held();
  });

  it('an already-aborted signal is refused without taking a slot or a queue place', async () => {
    const pool = new WorkerPool({ concurrency: 1, queueLimit: 5, queueTimeoutMs: 30_000 });
    const ctl = new AbortController();
    ctl.abort();
    await expect(pool.acquire(ctl.signal)).rejects.toMatchObject({ code: 'client_closed_request' });
    expect(pool.stats()).toMatchObject({ running: 0, waiting: 0 });
    (await pool.acquire(never()))();
  });

  it('a running holder keeps its slot when its signal aborts later, until it releases', async () => {
    const pool = new WorkerPool({ concurrency: 1, queueLimit: 5, queueTimeoutMs: 30_000 });
    const ctl = new AbortController();
    const release = await pool.acquire(ctl.signal);
    ctl.abort();
    await tick();
    const waiter = track(pool.acquire(never()));
    await tick(30);
    expect(waiter.settled).toBe(false); // the abort alone must not free the slot
    expect(pool.stats()).toMatchObject({ running: 1, waiting: 1 });
    release();
    await tick();
    expect(waiter.settled && waiter.error === undefined).toBe(true);
    (waiter.value as Release)();
  });

  it('with several slots, aborting running holders does not let extra waiters in', async () => {
    const pool = new WorkerPool({ concurrency: 2, queueLimit: 5, queueTimeoutMs: 30_000 });
    const c1 = new AbortController();
    const c2 = new AbortController();
    const r1 = await pool.acquire(c1.signal);
    const r2 = await pool.acquire(c2.signal);
    const w1 = track(pool.acquire(never()));
    const w2 = track(pool.acquire(never()));
    c1.abort();
    c2.abort();
    await tick(30);
    expect(w1.settled || w2.settled).toBe(false);
    expect(pool.stats()).toMatchObject({ running: 2, waiting: 2 });
    r1();
    await tick();
    expect(w1.settled).toBe(true);
    expect(w2.settled).toBe(false);
    r2();
    await tick();
    expect(w2.settled).toBe(true);
    (w1.value as Release)();
    (w2.value as Release)();
  });

  it('a holder that keeps its slot past queueTimeoutMs is not timed out', async () => {
    const pool = new WorkerPool({ concurrency: 1, queueLimit: 5, queueTimeoutMs: 20 });
    const release = await pool.acquire(never());
    await tick(80);
    expect(pool.stats().running).toBe(1);
    release();
    await tick();
    expect(pool.stats().running).toBe(0);
  });
});

describe('WorkerPool: queue timeout', () => {
  it('a request that waits longer than queueTimeoutMs fails with 503 queue_timeout and leaves the queue', async () => {
    const pool = new WorkerPool({ concurrency: 1, queueLimit: 5, queueTimeoutMs: 50 });
    const held = await pool.acquire(never());
    const err = await pool.acquire(never()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CligateError);
    expect(err).toMatchObject({ status: 503, code: 'queue_timeout', kind: 'overloaded' });
    expect((err as CligateError).retryAfter).toBeGreaterThanOrEqual(1);
    expect(pool.stats()).toMatchObject({ running: 1, waiting: 0 });

    // the timed-out request never takes the slot later
    held();
    await tick();
    expect(pool.stats()).toMatchObject({ running: 0, waiting: 0 });
    (await pool.acquire(never()))();
  });
});

describe('WorkerPool: release', () => {
  it('release() twice frees exactly one slot', async () => {
    const pool = new WorkerPool({ concurrency: 2, queueLimit: 5, queueTimeoutMs: 30_000 });
    const a = await pool.acquire(never());
    const b = await pool.acquire(never());
    const c = track(pool.acquire(never()));
    const d = track(pool.acquire(never()));
    await tick();
    a();
    a();
    a();
    await tick(30);
    expect(c.settled).toBe(true);
    expect(d.settled).toBe(false);
    expect(pool.stats()).toMatchObject({ running: 2, waiting: 1 });
    b();
    await tick();
    expect(d.settled).toBe(true);
    (c.value as Release)();
    (d.value as Release)();
    await tick();
    expect(pool.stats()).toMatchObject({ running: 0, waiting: 0 });
  });
});

describe('WorkerPool: drain', () => {
  it('refuses new acquires with shutting_down and rejects every waiter', async () => {
    const pool = new WorkerPool({ concurrency: 1, queueLimit: 5, queueTimeoutMs: 30_000 });
    const held = await pool.acquire(never());
    const w1 = pool.acquire(never()).catch((e: unknown) => e);
    const w2 = pool.acquire(never()).catch((e: unknown) => e);
    await tick();
    const drained = pool.drain(30_000);
    expect(await w1).toMatchObject({ status: 503, code: 'shutting_down' });
    expect(await w2).toMatchObject({ status: 503, code: 'shutting_down' });
    const refused = await pool.acquire(never()).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CligateError);
    expect(refused).toMatchObject({ status: 503, code: 'shutting_down' });
    expect(pool.stats().waiting).toBe(0);
    held();
    expect(await drained).toBe(true);
  });

  it('resolves true only once the holders have released', async () => {
    const pool = new WorkerPool({ concurrency: 2, queueLimit: 5, queueTimeoutMs: 30_000 });
    const a = await pool.acquire(never());
    const b = await pool.acquire(never());
    const drained = track(pool.drain(30_000));
    await tick(30);
    expect(drained.settled).toBe(false);
    a();
    await tick(30);
    expect(drained.settled).toBe(false);
    b();
    await tick();
    expect(drained).toMatchObject({ settled: true, value: true });
  });

  it('resolves false when a holder outlasts the grace period', async () => {
    const pool = new WorkerPool({ concurrency: 1, queueLimit: 5, queueTimeoutMs: 30_000 });
    const held = await pool.acquire(never());
    expect(await pool.drain(30)).toBe(false);
    held(); // a late release is still harmless
  });

  it('resolves true at once when nothing is running', async () => {
    const pool = new WorkerPool({ concurrency: 1, queueLimit: 5, queueTimeoutMs: 30_000 });
    (await pool.acquire(never()))();
    await tick();
    expect(await pool.drain(60_000)).toBe(true);
    await expect(pool.acquire(never())).rejects.toMatchObject({ code: 'shutting_down' });
  });
});
