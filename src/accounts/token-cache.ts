/**
 * Each API provider's short-lived credential per account (an access token, a JWT): reused
 * until `marginMs` before it expires, then fetched again — one fetch per account at a time
 * in this process (concurrent requests share it), and, when the pool shares state with
 * other instances, one across all of them: the token lives in shared state, a lock names
 * the one instance that refreshes, the others wait for its result.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Account } from './types.js';
import type { AccountPool } from './pool.js';
import { SingleFlight } from './single-flight.js';
import { Unavailable } from '../core/errors.js';
import type { SharedState } from '../state/shared-state.js';

export interface Expiring {
  /** epoch ms */
  expiresAt: number;
}

/** how long one instance may hold the refresh lock, and others wait for it */
const LOCK_MS = 30_000;
const POLL_MS = 50;

export class TokenCache<T extends Expiring> {
  private readonly map = new Map<string, T>();
  private readonly flights = new SingleFlight<T>();

  constructor(
    private readonly pool: Pick<AccountPool, 'refresh' | 'shared' | 'provider'>,
    private readonly marginMs: number,
  ) {
    // Redis back after an outage, or found empty: tokens this process holds go (back) in, unless Redis has a later one
    pool.shared?.onResync?.([`token:${pool.provider}:`], (remote) => this.resync(remote));
  }

  private async resync(remote: SharedState): Promise<Record<string, number>> {
    let tokens = 0;
    for (const [id, t] of this.map) {
      if (!this.fresh(t)) continue;
      const key = `token:${this.pool.provider}:${id}`;
      const theirs = await remote.getJson<T>(key);
      if (!theirs || theirs.expiresAt < t.expiresAt) {
        await remote.setJson(key, t, t.expiresAt - Date.now());
        tokens++;
      } else if (theirs.expiresAt > t.expiresAt) this.map.set(id, theirs);
    }
    return { tokens };
  }

  private fresh(t: T | undefined): t is T {
    return t !== undefined && t.expiresAt - Date.now() > this.marginMs;
  }

  /** the cached value while it has more than marginMs left, else a fresh one from `fetch` */
  async get(account: Account, fetch: () => Promise<T>, opts: { force?: boolean } = {}): Promise<T> {
    const cached = this.map.get(account.id);
    if (!opts.force && this.fresh(cached)) return cached;
    const shared = this.pool.shared;
    if (!shared) {
      return this.pool.refresh(account, async () => {
        const t = await fetch();
        this.map.set(account.id, t);
        return t;
      });
    }
    return this.flights.run(account.id, async () => {
      const key = `token:${this.pool.provider}:${account.id}`;
      const lock = `lock:refresh:${this.pool.provider}:${account.id}`;
      // forced: only a token other than the one that was rejected will do
      const usable = (t: T | undefined): t is T => this.fresh(t) && (!opts.force || JSON.stringify(t) !== JSON.stringify(cached));
      const adopt = (t: T) => (this.map.set(account.id, t), t);
      const known = await shared.getJson<T>(key);
      if (usable(known)) return adopt(known);
      const deadline = Date.now() + LOCK_MS;
      for (;;) {
        const held = await shared.tryLock(lock, LOCK_MS);
        if (held) {
          try {
            // another instance may have finished between the read and the lock
            const now = await shared.getJson<T>(key);
            if (usable(now)) return adopt(now);
            const t = await this.pool.refresh(account, fetch);
            await shared.setJson(key, t, t.expiresAt - Date.now());
            return adopt(t);
          } finally {
            await shared.unlock(lock, held).catch(() => {});
          }
        }
        await sleep(POLL_MS);
        const theirs = await shared.getJson<T>(key);
        if (usable(theirs)) return adopt(theirs);
        if (Date.now() > deadline) throw new Unavailable(`Waited ${LOCK_MS / 1000} s for another instance to refresh ${this.pool.provider} account ${account.id}.`, { code: 'refresh_wait_timeout' });
      }
    });
  }

  peek(accountId: string): T | undefined {
    return this.map.get(accountId);
  }
}
