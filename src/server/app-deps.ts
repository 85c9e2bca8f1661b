/**
 * What the HTTP application is built from. Its own module so that routes can name it
 * without importing app.ts, which imports them (no import cycle).
 */
import type { Config } from '../config.js';
import type { Router } from '../routing/router.js';
import type { Logger } from '../log.js';
import type { ImageCache } from '../features/image-cache.js';
import type { WorkerPool } from '../runtime/pool.js';
import type { WarmPool } from '../runtime/warm-pool.js';
import type { AdminDeps } from '../admin/deps.js';
import type { AdminAuth } from '../admin/auth.js';
import type { Metrics } from '../metrics/registry.js';
import type { SharedState } from '../state/shared-state.js';
import type { InFlight } from './inflight.js';
import type { KeyRing } from '../keys/ring.js';
import type { KeyLimiter } from '../keys/limits.js';

export interface AppDeps {
  config: Config;
  router: Router;
  pool: WorkerPool;
  /** pre-started CLI processes (reported by /health) */
  warm?: WarmPool;
  log: Logger;
  inflight?: InFlight;
  /** generated images served at /image/:file */
  images?: ImageCache;
  /** usage accounting, history and the admin API/console */
  admin?: AdminDeps & { auth: AdminAuth };
  /** state shared with other instances (rate-limit counters here) */
  shared?: SharedState;
  /** client keys (accepted beside API_KEY) and their limits */
  keys?: { ring: KeyRing; limiter: KeyLimiter };
  /** Prometheus metrics served at /metrics */
  metrics?: Metrics;
  /** flips to true when draining: new requests are refused */
  isDraining?: () => boolean;
}
