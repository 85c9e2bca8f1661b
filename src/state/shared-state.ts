/**
 * State that replicas must share: account health, sticky bindings, the round-robin
 * cursor, short-lived tokens, refresh locks, rate-limit counters, and change
 * notices. One interface, two homes: this process's memory (a single instance), or
 * Redis when REDIS_URL is set (any number of instances behind a load balancer).
 */
import type { Store } from 'express-rate-limit';

/** why shared state is put back: Redis answers again after an outage, or it was found empty (restarted without persistence, or replaced) */
export type ResyncReason = 'recovered' | 'lost';

/**
 * puts back into Redis what this process holds under its prefixes (and takes what Redis holds
 * that is newer); `remote` is Redis itself, with no fallback. Returns what it wrote, by kind, for the log.
 */
export type ResyncHook = (remote: SharedState, why: ResyncReason) => Promise<Record<string, number> | void>;

export interface SharedState {
  readonly kind: 'memory' | 'redis';
  /** this process, so a subscriber can ignore its own notices */
  readonly instanceId: string;
  getJson<T>(key: string): Promise<T | undefined>;
  /** ttlMs: the value disappears after it (none = kept) */
  setJson(key: string, value: unknown, ttlMs?: number): Promise<void>;
  /** every value whose key starts with prefix */
  scanJson<T>(prefix: string): Promise<[string, T][]>;
  del(key: string): Promise<void>;
  /** atomically adds one and returns the new value */
  incr(key: string): Promise<number>;
  /** atomically adds `by` to a counter that lives ttlMs from its first add (a window), and returns the new value */
  incrWindow(key: string, by: number, ttlMs: number): Promise<number>;
  /**
   * a counting semaphore of `limit` slots, each held under its own id for leaseMs (a holder that
   * died frees its slot when the lease ends). Takes (or renews) the slot and returns true, or false
   * when all are held. Holders renew before the lease ends; releaseSlot frees it at once.
   */
  takeSlot(key: string, id: string, limit: number, leaseMs: number): Promise<boolean>;
  releaseSlot(key: string, id: string): Promise<void>;
  /** slots held now */
  countSlots(key: string): Promise<number>;
  /** a lock that expires after ttlMs; returns a token to unlock with, or undefined when someone holds it */
  tryLock(key: string, ttlMs: number): Promise<string | undefined>;
  unlock(key: string, token: string): Promise<void>;
  publish(channel: string, message: object): Promise<void>;
  subscribe(channel: string, onMessage: (message: Record<string, unknown>) => void): Promise<void>;
  /** the store express-rate-limit counts in (undefined: its own memory store) */
  rateLimitStore(name: string): Store | undefined;
  /**
   * Redis behind a deadline and a local fallback (ResilientState) only: `hook` runs whenever Redis
   * answers again after an outage, or was found to have lost its data. Keys under `prefixes` are the
   * hook's to put back (their writes made during the outage are not replayed one by one).
   */
  onResync?(prefixes: readonly string[], hook: ResyncHook): void;
  /** the shared state itself, without the fallback (a start-up load must reach Redis or fail) */
  readonly direct?: SharedState;
  /** 'degraded': Redis is unreachable and this process answers from its own memory */
  health?(): 'ok' | 'degraded';
  close(): Promise<void>;
}
