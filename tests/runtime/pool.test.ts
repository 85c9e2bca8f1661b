/** WorkerPool: bounds, queue refusal, abandonment, timeouts, drain. */
import { describe, expect, it } from 'vitest';
import { WorkerPool } from '../../src/runtime/pool.js';
import { CligateError } from '../../src/core/errors.js';

const tick = () => new Promise((r) => setTimeout(r, 10));
const never = () => new AbortController().signal;

describe('WorkerPool', () => {
  it('holds at most `concurrency` slots and hands them over in order', async () => {
    const pool = new WorkerPool({ concurrency: 2, queueLimit: 10, queueTimeoutMs: 10_000 });
    const order: number[] = [];
    const r1 = await pool.acquire(never());
    const r2 = await pool.acquire(never());
    const w3 = pool.acquire(never()).then((r) => (order.push(3), r));
    const w4 = pool.acquire(never()).then((r) => (order.push(4), r));
    await tick();
    expect(pool.stats()).toMatchObject({ running: 2, waiting: 2 });
    expect(order).toEqual([]);
    r1();
    const r3 = await w3;
    expect(order).toEqual([3]);
    r2();
    (await w4)();
    r3();
    await tick();
    expect(pool.stats()).toMatchObject({ running: 0, waiting: 0 });
  });

  it('refuses at once with 429 queue_full and a Retry-After when the queue is full', async () => {
    const pool = new WorkerPool({ concurrency: 1, queueLimit: 1, queueTimeoutMs: 8_000 });
    await pool.acquire(never());
    void pool.acquire(never());
    const err = await pool.acquire(never()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CligateError);
    expect(err).toMatchObject({ status: 429, code: 'queue_full', retryAfter: 2 });
  });

  it('a waiter whose client leaves is removed and never runs; the slot goes to the next one', async () => {
    const pool = new WorkerPool({ concurrency: 1, queueLimit: 5, queueTimeoutMs: 10_000 });
    const held = await pool.acquire(never());
    const leaving = new AbortController();
    let leftRan = false;
    const left = pool.acquire(leaving.signal).then(() => (leftRan = true));
    const next = pool.acquire(never());
    await tick();
    expect(pool.stats().waiting).toBe(2);
    leaving.abort();
    await expect(left).rejects.toMatchObject({ code: 'client_closed_request' });
    expect(pool.stats().waiting).toBe(1);
    held();
    (await next)();
    expect(leftRan).toBe(false);
  });

  it('a running holder keeps its slot when its signal fires later (until it releases)', async () => {
    const pool = new WorkerPool({ concurrency: 1, queueLimit: 5, queueTimeoutMs: 10_000 });
    const ctl = new AbortController();
    const release = await pool.acquire(ctl.signal);
    ctl.abort();
    await tick();
    let gotIt = false;
    const waiter = pool.acquire(never()).then((r) => ((gotIt = true), r));
    await tick();
    expect(gotIt).toBe(false); // still held: the abort alone must not free it
    expect(pool.stats().running).toBe(1);
    release();
    release(); // twice is harmless
    (await waiter)();
    expect(gotIt).toBe(true);
  });

  it('a request that waits longer than queueTimeoutMs fails with 503 queue_timeout', async () => {
    const pool = new WorkerPool({ concurrency: 1, queueLimit: 5, queueTimeoutMs: 50 });
    const held = await pool.acquire(never());
    const err = await pool.acquire(never()).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 503, code: 'queue_timeout' });
    expect(pool.stats().waiting).toBe(0);
    held();
  });

  it('drain refuses new work and waiters, and resolves when holders release (or false after the grace)', async () => {
    const pool = new WorkerPool({ concurrency: 1, queueLimit: 5, queueTimeoutMs: 10_000 });
    const held = await pool.acquire(never());
    const waiter = pool.acquire(never()).catch((e: unknown) => e);
    const drained = pool.drain(5_000);
    expect(await waiter).toMatchObject({ code: 'shutting_down' });
    await expect(pool.acquire(never())).rejects.toMatchObject({ code: 'shutting_down', status: 503 });
    held();
    expect(await drained).toBe(true);

    const pool2 = new WorkerPool({ concurrency: 1, queueLimit: 5, queueTimeoutMs: 10_000 });
    await pool2.acquire(never());
    expect(await pool2.drain(30)).toBe(false);
  });
});
