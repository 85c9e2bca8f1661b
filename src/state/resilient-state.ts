/**
 * Redis as the instances' shared state, with a deadline and a fallback, so that a slow or absent
 * Redis costs a request at most REDIS_DEADLINE_MS and never turns a feature off.
 *
 * - Every operation goes to Redis and must answer within the deadline. One that does not (or whose
 *   connection is down) is answered by this process's own MemoryState instead, and so is every
 *   later one, at once, until Redis answers again: the instance is "degraded". Rate limits then
 *   count per instance with their own counters, health, tokens, locks and sticky bindings are this
 *   instance's, notices to the others are dropped, and what is written is kept here.
 * - While degraded, Redis is pinged every PROBE_MS. Unanswered for GRACE_MS, the outage gets one
 *   warning line (`event: shared-state-degraded`); a blip shorter than that gets none.
 * - When Redis answers again: the keys written meanwhile go in (where no other instance wrote them
 *   since), each resync hook puts back what its owner holds (the account store, health, tokens:
 *   newest version wins), then one line says so (`event: shared-state-recovered`).
 * - A marker key (`state:epoch`) tells a Redis that came back empty (restarted without persistence,
 *   flushed, replaced) from one that kept its data: checked at each recovery and every HEARTBEAT_MS,
 *   which also notices a frozen Redis when no request is running. Empty: every instance republishes.
 */
import { randomUUID } from 'node:crypto';
import { MemoryStore, type ClientRateLimitInfo, type Options, type Store } from 'express-rate-limit';
import type { Logger } from '../log.js';
import { MemoryState } from './memory-state.js';
import type { RedisState } from './redis-state.js';
import type { ResyncHook, ResyncReason, SharedState } from './shared-state.js';

const EPOCH_KEY = 'state:epoch';
/** one operation of a start-up load or a resync hook (Redis answered a ping just before) */
const DIRECT_TIMEOUT_MS = 10_000;
/** while all is well, how often Redis is checked (its marker key) */
const HEARTBEAT_MS = 1_000;
/** while degraded, how often Redis is asked whether it is back */
const PROBE_MS = 250;
/** unanswered this long, an outage is announced (and a heartbeat has failed); shorter is a blip */
const GRACE_MS = 1_000;
/** writes made while degraded that are put into Redis when it returns; the oldest are forgotten beyond this */
const MAX_PENDING = 100_000;

export interface ResilientOptions {
  /** REDIS_DEADLINE_MS: what one operation may take before this process answers it itself */
  deadlineMs: number;
  log: Logger;
  /** tests: HEARTBEAT_MS, PROBE_MS, GRACE_MS */
  heartbeatMs?: number;
  probeMs?: number;
  graceMs?: number;
}

class DeadlineError extends Error {
  override readonly name = 'DeadlineError';
}

/**
 * p, or a DeadlineError after ms (an answer that comes later is dropped). When the timer fires, I/O
 * that is already in is read first (setImmediate runs after the poll phase): an answer that arrived
 * while this process was busy elsewhere is not a late one.
 */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => setImmediate(() => reject(new DeadlineError(`${what}: no answer within ${ms} ms`))), ms);
  });
  p.catch(() => {});
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * an error that Redis itself answered (a wrong type, a script error) is the caller's; only an unanswered
 * command, a closed connection, or a Redis that says it cannot serve yet mean "unreachable"
 */
function unreachable(err: unknown): boolean {
  if (err instanceof DeadlineError) return true;
  const e = err as { name?: string; message?: string };
  if (e?.name === 'ReplyError') return /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN)\b/.test(e.message ?? '');
  return !(err instanceof SyntaxError);
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** the remote with a generous timeout per operation and no fallback */
function bounded(remote: SharedState, ms: number): SharedState {
  return new Proxy(remote, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        const r = (v as (...a: unknown[]) => unknown).apply(target, args);
        return r instanceof Promise ? within(r, ms, `Redis ${String(prop)}`) : r;
      };
    },
  });
}

export class ResilientState implements SharedState {
  readonly kind = 'redis' as const;
  readonly direct: SharedState;
  private readonly local = new MemoryState();
  /** up: operations go to Redis; local: to this process's memory */
  private mode: 'up' | 'local' = 'up';
  /** the "degraded" line was written and its "recovered" line is due */
  private announced = false;
  private since = 0;
  private reason = '';
  /** operations answered locally in this outage */
  private answeredLocally = 0;
  /** the marker this instance last saw in Redis */
  private epoch: string | undefined;
  /** keys written or deleted while degraded, to put into Redis when it returns */
  private readonly pending = new Map<string, 'set' | 'del'>();
  private dropped = 0;
  private readonly hooks: { prefixes: readonly string[]; hook: ResyncHook }[] = [];
  private heartbeat?: NodeJS.Timeout;
  private probeTimer?: NodeJS.Timeout;
  /** a probe, heartbeat or resync running: one at a time */
  private busy: Promise<void> | undefined;
  private closed = false;
  private readonly deadlineMs: number;
  private readonly log: Logger;
  private readonly probeMs: number;
  private readonly graceMs: number;

  private constructor(
    private readonly remote: RedisState,
    opts: ResilientOptions,
  ) {
    this.deadlineMs = opts.deadlineMs;
    this.log = opts.log;
    this.probeMs = opts.probeMs ?? PROBE_MS;
    this.graceMs = opts.graceMs ?? GRACE_MS;
    this.direct = bounded(remote, DIRECT_TIMEOUT_MS);
    this.heartbeat = setInterval(() => this.beat(), opts.heartbeatMs ?? HEARTBEAT_MS);
    this.heartbeat.unref();
    remote.onConnection((event) => (event === 'down' ? this.trouble(new Error('the connection to Redis closed')) : this.probeSoon(0)));
  }

  /** wraps a connected RedisState (its marker key is set or read first) */
  static async create(remote: RedisState, opts: ResilientOptions): Promise<ResilientState> {
    const state = new ResilientState(remote, opts);
    await state.readEpoch();
    return state;
  }

  get instanceId(): string {
    return this.remote.instanceId;
  }

  health(): 'ok' | 'degraded' {
    return this.mode === 'up' ? 'ok' : 'degraded';
  }

  onResync(prefixes: readonly string[], hook: ResyncHook): void {
    this.hooks.push({ prefixes, hook });
  }

  /** Redis within the deadline, else (and while degraded, at once) `local` */
  async fallback<T>(what: string, remote: () => Promise<T>, local: () => Promise<T>): Promise<T> {
    if (this.mode === 'up') {
      try {
        return await within(remote(), this.deadlineMs, `Redis ${what}`);
      } catch (err) {
        if (!unreachable(err)) throw err;
        this.trouble(err);
      }
    }
    this.answeredLocally++;
    return local();
  }

  getJson<T>(key: string): Promise<T | undefined> {
    return this.fallback('get', () => this.remote.getJson<T>(key), () => this.local.getJson<T>(key));
  }

  setJson(key: string, value: unknown, ttlMs?: number): Promise<void> {
    return this.fallback(
      'set',
      () => this.remote.setJson(key, value, ttlMs),
      async () => {
        await this.local.setJson(key, value, ttlMs);
        this.remember(key, 'set');
      },
    );
  }

  scanJson<T>(prefix: string): Promise<[string, T][]> {
    return this.fallback('scan', () => this.remote.scanJson<T>(prefix), () => this.local.scanJson<T>(prefix));
  }

  del(key: string): Promise<void> {
    return this.fallback(
      'del',
      () => this.remote.del(key),
      async () => {
        await this.local.del(key);
        this.remember(key, 'del');
      },
    );
  }

  incr(key: string): Promise<number> {
    return this.fallback('incr', () => this.remote.incr(key), () => this.local.incr(key));
  }

  incrWindow(key: string, by: number, ttlMs: number): Promise<number> {
    return this.fallback('window counter', () => this.remote.incrWindow(key, by, ttlMs), () => this.local.incrWindow(key, by, ttlMs));
  }

  takeSlot(key: string, id: string, limit: number, leaseMs: number): Promise<boolean> {
    return this.fallback('slot', () => this.remote.takeSlot(key, id, limit, leaseMs), () => this.local.takeSlot(key, id, limit, leaseMs));
  }

  /** freed in both homes: the slot may have been taken in either */
  async releaseSlot(key: string, id: string): Promise<void> {
    await this.local.releaseSlot(key, id);
    await this.fallback('slot release', () => this.remote.releaseSlot(key, id), async () => {});
  }

  countSlots(key: string): Promise<number> {
    return this.fallback('slot count', () => this.remote.countSlots(key), () => this.local.countSlots(key));
  }

  tryLock(key: string, ttlMs: number): Promise<string | undefined> {
    return this.fallback('lock', () => this.remote.tryLock(key, ttlMs), () => this.local.tryLock(key, ttlMs));
  }

  /** released in both homes: the lock may have been taken in either (tokens are unique) */
  async unlock(key: string, token: string): Promise<void> {
    await this.local.unlock(key, token);
    await this.fallback('unlock', () => this.remote.unlock(key, token), async () => {});
  }

  /** while degraded a notice reaches no one: the resync puts back what it was about */
  publish(channel: string, message: object): Promise<void> {
    return this.fallback('publish', () => this.remote.publish(channel, message), async () => {});
  }

  async subscribe(channel: string, onMessage: (message: Record<string, unknown>) => void): Promise<void> {
    // the listener is kept even if SUBSCRIBE fails: the resync subscribes again
    await within(this.remote.subscribe(channel, onMessage), DIRECT_TIMEOUT_MS, 'Redis subscribe').catch((err: unknown) => this.trouble(err));
  }

  rateLimitStore(name: string): Store {
    return new FallbackStore(this, this.remote.rateLimitStore(name));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.probeTimer);
    // a check or resync still running fails with the connections; its errors are its own to catch
    await this.local.close();
    await this.remote.close();
  }

  private remember(key: string, op: 'set' | 'del'): void {
    this.pending.delete(key);
    this.pending.set(key, op);
    if (this.pending.size > MAX_PENDING) {
      const oldest = this.pending.keys().next().value as string;
      this.pending.delete(oldest);
      void this.local.del(oldest);
      this.dropped++;
    }
  }

  /** an operation went unanswered or the connection closed: local from now on, and find out when Redis is back */
  private trouble(err: unknown): void {
    if (this.closed) return;
    if (this.mode === 'up') {
      this.mode = 'local';
      if (!this.announced) {
        this.since = Date.now();
        this.answeredLocally = 0;
        // what went wrong first; the probes' own errors follow
        this.reason = message(err);
      }
      this.log.debug({ redis: 'unanswered', reason: this.reason }, 'Redis did not answer: answering from this instance until it does');
    }
    this.probeSoon(0);
  }

  private probeSoon(delayMs: number): void {
    if (this.closed || this.probeTimer || this.mode === 'up') return;
    this.probeTimer = setTimeout(() => {
      this.probeTimer = undefined;
      this.probe();
    }, delayMs);
    this.probeTimer.unref();
  }

  /** one thing at a time talks to Redis about its own state */
  private serially(work: () => Promise<void>): boolean {
    if (this.busy || this.closed) return false;
    this.busy = work()
      .catch((err: unknown) => this.log.error({ err: message(err) }, 'shared state: unexpected error while checking Redis'))
      .finally(() => {
        this.busy = undefined;
        this.probeSoon(this.probeMs);
      });
    return true;
  }

  private probe(): void {
    if (this.mode === 'up') return;
    if (!this.serially(() => this.probeOnce())) this.probeSoon(this.probeMs);
  }

  private async probeOnce(): Promise<void> {
    try {
      await within(this.remote.ping(), this.deadlineMs, 'Redis ping');
    } catch (err) {
      if (!this.announced && Date.now() - this.since >= this.graceMs) {
        this.announced = true;
        this.log.warn(
          { event: 'shared-state-degraded', redis: 'degraded', reason: this.reason, probe: message(err), deadlineMs: this.deadlineMs },
          'Redis unreachable: this instance runs on its own memory until it returns (rate limits count per instance, account health and tokens stay local, changes are kept and published when Redis is back)',
        );
      }
      return;
    }
    await this.recover();
  }

  /** the marker in Redis: set where there is none; 'lost' when it is not the one this instance saw last */
  private async readEpoch(): Promise<ResyncReason> {
    await within(this.remote.setJsonIfAbsent(EPOCH_KEY, randomUUID()), DIRECT_TIMEOUT_MS, 'Redis set');
    const now = await within(this.remote.getJson<string>(EPOCH_KEY), DIRECT_TIMEOUT_MS, 'Redis get');
    const lost = this.epoch !== undefined && now !== this.epoch;
    this.epoch = now;
    return lost ? 'lost' : 'recovered';
  }

  /** while all is well: Redis answers within the deadline and still has its marker */
  private beat(): void {
    if (this.mode !== 'up') return;
    this.serially(async () => {
      let epoch: string | undefined;
      try {
        // no request waits for it: only an outage (GRACE_MS unanswered) counts here
        epoch = await within(this.remote.getJson<string>(EPOCH_KEY), Math.max(this.deadlineMs, this.graceMs), 'Redis heartbeat');
      } catch (err) {
        if (unreachable(err)) this.trouble(err);
        return;
      }
      if (epoch !== this.epoch) await this.recover();
    });
  }

  /** Redis answers: put back what was written meanwhile, then what each owner holds; then back to Redis */
  private async recover(): Promise<void> {
    let why: ResyncReason;
    try {
      why = await this.readEpoch();
      await within(this.remote.resubscribe(), DIRECT_TIMEOUT_MS, 'Redis subscribe');
    } catch (err) {
      this.trouble(err);
      return;
    }
    // operations go to Redis again from here: what they write meets what the hooks put back, newest wins
    const wasLocal = this.mode === 'local';
    this.mode = 'up';
    let republished: Record<string, number>;
    try {
      republished = await this.resync(why);
    } catch (err) {
      this.trouble(err);
      return;
    }
    const fields = { redis: 'ok', redisWasEmpty: why === 'lost', republished, ...(this.dropped ? { forgotten: this.dropped } : {}) };
    this.dropped = 0;
    if (this.announced) {
      this.announced = false;
      this.log.warn({ event: 'shared-state-recovered', ...fields, degradedMs: Date.now() - this.since, answeredLocally: this.answeredLocally }, 'Redis is back: shared state in use again, what this instance holds is republished');
    } else if (why === 'lost') {
      this.log.warn({ event: 'shared-state-republished', ...fields }, 'Redis had lost its data (restarted empty, flushed or replaced): what this instance holds is republished');
    } else if (wasLocal) {
      this.log.debug({ ...fields, localMs: Date.now() - this.since }, 'Redis answers again after a short gap');
    }
  }

  private async resync(why: ResyncReason): Promise<Record<string, number>> {
    const owned = (key: string) => this.hooks.some((h) => h.prefixes.some((p) => key.startsWith(p)));
    let replayed = 0;
    for (const [key, op] of [...this.pending]) {
      if (!owned(key)) {
        if (op === 'del') await this.direct.del(key);
        else {
          const e = this.local.entry(key);
          // another instance's value written meanwhile wins over this one
          if (e && (e.ttlMs === undefined || e.ttlMs > 0)) await within(this.remote.setJsonIfAbsent(key, e.value, e.ttlMs), DIRECT_TIMEOUT_MS, 'Redis set');
        }
        replayed++;
      }
      this.pending.delete(key);
      await this.local.del(key);
    }
    const out: Record<string, number> = replayed ? { replayed } : {};
    for (const { hook } of this.hooks) {
      for (const [k, n] of Object.entries((await hook(this.direct, why)) ?? {})) if (n) out[k] = (out[k] ?? 0) + n;
    }
    return out;
  }
}

/**
 * express-rate-limit's counters in Redis (rate-limit-redis), or while Redis is away in this
 * process's own MemoryStore: a limit then holds per instance, it is never off
 */
class FallbackStore implements Store {
  readonly localKeys = false;
  readonly prefix: string | undefined;
  private readonly local = new MemoryStore();

  constructor(
    private readonly state: ResilientState,
    private readonly remote: Store,
  ) {
    this.prefix = remote.prefix;
  }

  init(options: Options): void {
    void Promise.resolve(this.remote.init?.(options)).catch(() => {});
    this.local.init(options);
  }

  increment(key: string): Promise<ClientRateLimitInfo> {
    return this.state.fallback('rate limit', async () => this.remote.increment(key), () => this.local.increment(key));
  }

  decrement(key: string): Promise<void> {
    return this.state.fallback('rate limit', async () => this.remote.decrement(key), () => this.local.decrement(key));
  }

  async resetKey(key: string): Promise<void> {
    await this.local.resetKey(key);
    await this.state.fallback('rate limit', async () => this.remote.resetKey(key), async () => {});
  }

  get(key: string): Promise<ClientRateLimitInfo | undefined> {
    return this.state.fallback('rate limit', async () => this.remote.get?.(key), () => this.local.get(key));
  }

  shutdown(): void {
    void this.local.shutdown();
  }
}
