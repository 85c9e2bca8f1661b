/**
 * Account health: an account whose credentials were rejected leaves rotation (with
 * the reason) until they are fixed; a rate-limited or failing account cools down for
 * the upstream's retry-after, else on a ladder (base, doubling, capped), and comes back
 * by itself. A known reset time always wins over the ladder: a cooldown never outlasts it.
 */
import type { PoolAccountHealth } from '../core/provider.js';

export interface HealthOptions {
  /** first rung of the ladder */
  baseMs: number;
  /** the ladder stops growing here */
  maxMs: number;
  now?: () => number;
  /** told of every change worth sharing with other instances (not of lastUsed) */
  onChange?: (id: string, health: AccountHealth) => void;
}

/** the state of one account (the admin view of it is the same shape) */
export type AccountHealth = PoolAccountHealth;

export class HealthBook {
  private readonly map = new Map<string, AccountHealth>();
  private readonly now: () => number;

  constructor(private readonly opts: HealthOptions) {
    this.now = opts.now ?? Date.now;
  }

  get(id: string): AccountHealth {
    let h = this.map.get(id);
    if (!h) {
      h = { failures: 0 };
      this.map.set(id, h);
    }
    return h;
  }

  usable(id: string): boolean {
    const h = this.get(id);
    return !h.unavailable && (h.coolUntil ?? 0) <= this.now();
  }

  /** ms until a cooling account is usable again (0 when it is) */
  waitMs(id: string): number {
    return Math.max(0, (this.get(id).coolUntil ?? 0) - this.now());
  }

  used(id: string): void {
    this.get(id).lastUsed = this.now();
  }

  succeeded(id: string): void {
    const h = this.get(id);
    // shared only when it ends a failure streak: a success per request is not news
    const recovered = h.failures > 0 || h.coolUntil !== undefined;
    h.failures = 0;
    h.coolUntil = undefined;
    h.lastSuccess = this.now();
    if (recovered) this.opts.onChange?.(id, h);
  }

  authFailed(id: string, reason: string): void {
    const h = this.get(id);
    h.unavailable = reason;
    h.lastError = reason;
    this.opts.onChange?.(id, h);
  }

  /** back in rotation (credentials edited, or a test passed) */
  restore(id: string): void {
    const { lastUsed, lastSuccess, lastRefresh } = this.get(id);
    const h: AccountHealth = { failures: 0, ...(lastUsed ? { lastUsed } : {}), ...(lastSuccess ? { lastSuccess } : {}), ...(lastRefresh ? { lastRefresh } : {}) };
    this.map.set(id, h);
    this.opts.onChange?.(id, h);
  }

  /** another instance's view of an account (its cooldown, failures, rejection) */
  apply(id: string, remote: AccountHealth): void {
    const { lastUsed } = this.get(id);
    this.map.set(id, { ...remote, ...(lastUsed ? { lastUsed } : {}) });
  }

  /**
   * rate limit or transient failure: rest for retryAfterMs when the upstream said so,
   * else the next rung of the ladder, never past resetAt when that is known
   */
  cool(id: string, reason: string, opts: { retryAfterMs?: number; resetAt?: number } = {}): number {
    const h = this.get(id);
    const ladder = Math.min(this.opts.baseMs * 2 ** h.failures, this.opts.maxMs);
    h.failures++;
    let ms = opts.retryAfterMs !== undefined && opts.retryAfterMs >= 0 ? opts.retryAfterMs : ladder;
    if (opts.resetAt !== undefined) ms = Math.min(ms, Math.max(0, opts.resetAt - this.now()));
    h.coolUntil = this.now() + ms;
    h.lastError = reason;
    this.opts.onChange?.(id, h);
    return ms;
  }
}
