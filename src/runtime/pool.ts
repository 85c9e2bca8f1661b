/**
 * The worker pool: at most `concurrency` CLI processes at once, at most `queueLimit`
 * requests waiting. A full queue refuses at once (429 + Retry-After); a waiting
 * request whose client leaves is dropped from the queue and never runs; one that
 * waits past `queueTimeoutMs` fails with a clear error.
 */
import PQueue from 'p-queue';
import { RateLimited, Overloaded, Unavailable, CligateError } from '../core/errors.js';

export interface PoolOptions {
  concurrency: number;
  queueLimit: number;
  queueTimeoutMs: number;
  /** told how long each request waited for its slot (metrics) */
  onWait?: (ms: number) => void;
  /** a request is about to queue: free a slot held by something idle (a warm process), if there is one */
  reclaim?: () => boolean;
}

export interface PoolStats {
  running: number;
  waiting: number;
  concurrency: number;
  queueLimit: number;
}

/** A held slot; call release() exactly when the work is over (extra calls are ignored). */
export type Release = () => void;

export class WorkerPool {
  private readonly queue: PQueue;
  private closed = false;
  /** controllers of the requests still waiting, so a drain can refuse them */
  private readonly waiting = new Set<AbortController>();

  constructor(private readonly opts: PoolOptions) {
    this.queue = new PQueue({ concurrency: opts.concurrency });
  }

  stats(): PoolStats {
    return {
      running: this.queue.pending,
      waiting: this.queue.size,
      concurrency: this.opts.concurrency,
      queueLimit: this.opts.queueLimit,
    };
  }

  /** Wait for a slot. Rejects with a typed error if refused, timed out or aborted. */
  acquire(signal: AbortSignal): Promise<Release> {
    if (this.closed) return Promise.reject(shuttingDown());
    if (signal.aborted) return Promise.reject(abortError(signal));
    let mustWait = this.queue.pending >= this.opts.concurrency;
    // idle warm processes give their slots to real requests
    if (mustWait && this.opts.reclaim?.()) mustWait = this.queue.size >= this.opts.concurrency;
    if (mustWait && this.queue.size >= this.opts.queueLimit) {
      const retryAfter = this.retryAfter();
      return Promise.reject(
        new RateLimited(
          `All ${this.opts.concurrency} workers are busy and the queue is full (${this.opts.queueLimit} waiting). Retry after ${retryAfter}s, or raise WORKER_CONCURRENCY / QUEUE_LIMIT.`,
          { code: 'queue_full', retryAfter },
        ),
      );
    }

    // Our own controller, aborted only while the request still waits: p-queue would
    // otherwise free the slot of a running task whose signal fires.
    const waitCtl = new AbortController();
    this.waiting.add(waitCtl);
    let started = false;
    let timedOut = false;
    const asked = performance.now();
    const onClientAbort = () => {
      if (!started) waitCtl.abort();
    };
    signal.addEventListener('abort', onClientAbort, { once: true });
    const timer = setTimeout(() => {
      if (started) return;
      timedOut = true;
      waitCtl.abort();
    }, this.opts.queueTimeoutMs);

    return new Promise<Release>((resolve, reject) => {
      this.queue
        .add(
          () => {
            started = true;
            this.opts.onWait?.(performance.now() - asked);
            this.waiting.delete(waitCtl);
            clearTimeout(timer);
            signal.removeEventListener('abort', onClientAbort);
            if (signal.aborted) {
              reject(abortError(signal));
              return Promise.resolve();
            }
            return new Promise<void>((done) => {
              let released = false;
              resolve(() => {
                if (released) return;
                released = true;
                done();
              });
            });
          },
          { signal: waitCtl.signal },
        )
        .catch(() => {
          this.waiting.delete(waitCtl);
          clearTimeout(timer);
          signal.removeEventListener('abort', onClientAbort);
          if (!timedOut) reject(this.closed ? shuttingDown() : abortError(signal));
          else
            reject(
              new Overloaded(
                `Waited ${this.opts.queueTimeoutMs} ms in the queue without a free worker (QUEUE_TIMEOUT). The server is saturated; retry later or raise WORKER_CONCURRENCY.`,
                { code: 'queue_timeout', retryAfter: this.retryAfter() },
              ),
            );
        });
    });
  }

  /** a slot only if one is free now and nobody waits (background work never queues) */
  async tryAcquire(): Promise<Release | undefined> {
    if (this.closed || this.queue.pending >= this.opts.concurrency || this.queue.size > 0) return undefined;
    return this.acquire(new AbortController().signal).catch(() => undefined);
  }

  private retryAfter(): number {
    return Math.max(1, Math.ceil(this.opts.queueTimeoutMs / 1000 / 4));
  }

  /** Refuse new work; resolves when every running task has released its slot or `graceMs` passed. */
  async drain(graceMs: number): Promise<boolean> {
    this.closed = true;
    this.waiting.forEach((ctl) => ctl.abort());
    if (this.queue.pending === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((r) => (timer = setTimeout(() => r(false), graceMs)));
    const idle = this.queue.onPendingZero().then(() => true as const);
    const ok = await Promise.race([idle, timedOut]);
    clearTimeout(timer);
    return ok;
  }
}

function shuttingDown(): CligateError {
  return new Unavailable('The server is shutting down; retry shortly or on another instance.', { code: 'shutting_down' });
}

function abortError(signal: AbortSignal): CligateError {
  const reason: unknown = signal.reason;
  if (reason instanceof CligateError) return reason;
  return new CligateError('bad_request', 499, 'The client closed the request while it waited for a worker.', {
    code: 'client_closed_request',
  });
}
