/**
 * Each API provider's short-lived credential per account (an access token, a JWT): reused
 * until `marginMs` before it expires, then fetched again — one fetch per account at a time,
 * through the pool's single-flight refresh, so concurrent requests share it.
 */
import type { Account } from './types.js';
import type { AccountPool } from './pool.js';

export interface Expiring {
  /** epoch ms */
  expiresAt: number;
}

export class TokenCache<T extends Expiring> {
  private readonly map = new Map<string, T>();

  constructor(
    private readonly pool: Pick<AccountPool, 'refresh'>,
    private readonly marginMs: number,
  ) {}

  /** the cached value while it has more than marginMs left, else a fresh one from `fetch` */
  async get(account: Account, fetch: () => Promise<T>, opts: { force?: boolean } = {}): Promise<T> {
    const cached = this.map.get(account.id);
    if (!opts.force && cached && cached.expiresAt - Date.now() > this.marginMs) return cached;
    return this.pool.refresh(account, async () => {
      const fresh = await fetch();
      this.map.set(account.id, fresh);
      return fresh;
    });
  }

  peek(accountId: string): T | undefined {
    return this.map.get(accountId);
  }
}
