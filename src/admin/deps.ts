/** What the admin routes work on. */
import type { Config } from '../config.js';
import type { AccountStore } from '../accounts/store.js';
import type { Router } from '../routing/router.js';
import type { AccountPoolView, Provider } from '../core/provider.js';
import type { UsageBook } from '../usage/book.js';
import type { History } from '../usage/history.js';
import type { Logger } from '../log.js';
import type { WarmPool } from '../runtime/warm-pool.js';
import type { KeyRing } from '../keys/ring.js';
import type { KeyLimiter } from '../keys/limits.js';
import { BadRequest, NotFound } from '../core/errors.js';

export interface AdminDeps {
  config: Config;
  store: AccountStore;
  router: Router;
  usage: UsageBook;
  history: History;
  log: Logger;
  /** pre-started CLI processes, read only (the overview counts them per CLI and model) */
  warm?: Pick<WarmPool, 'enabled' | 'stats' | 'shapes'>;
  /** client keys: last use and what each has used against its limits */
  keys: { ring: KeyRing; limiter: KeyLimiter };
}

/** an API provider, with the admin's view of its account pool; its accounts themselves are in `store` */
export type PooledProvider = Provider & { readonly pool: AccountPoolView };

/** providers with an account pool (the ones accounts can be added to) */
export function pooled(router: Router): PooledProvider[] {
  return router.all().filter((p): p is PooledProvider => p.pool !== undefined);
}

/** a provider named in the path is 404 when unknown; one named in a body is bad input (400) */
export function pooledProvider(router: Router, id: string, from: 'path' | 'body' = 'path'): PooledProvider {
  const p = pooled(router).find((x) => x.id === id);
  if (p) return p;
  const message = `No account-pool provider '${id}'. Providers with accounts: ${pooled(router).map((x) => x.id).join(', ')}.`;
  throw from === 'body' ? new BadRequest(message, { code: 'invalid_admin_input', param: 'provider' }) : new NotFound(message, { code: 'provider_not_found', param: 'provider' });
}
