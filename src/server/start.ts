/**
 * Assembles and starts cligate: pool, providers, router, HTTP server; and drains it
 * on shutdown (stop accepting, let running requests finish within the grace
 * period, then abort the rest, which kills their CLI trees and removes sandboxes).
 */
import { warmTokenizer } from '../features/token-estimate.js';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { Unavailable } from '../core/errors.js';
import os from 'node:os';
import path from 'node:path';
import { WorkerPool } from '../runtime/pool.js';
import { SessionCleanup } from '../runtime/session-cleanup.js';
import { backgroundSettled } from '../runtime/background.js';
import { DEFAULT_TEMPLATE_DIR } from '../runtime/sandbox.js';
import { createProviders } from '../providers/registry.js';
import { Router } from '../routing/router.js';
import { providerView } from '../providers/status-view.js';
import type { ModelRoute } from '../routing/routes.js';
import { createApp } from './app.js';
import { AccountStore } from '../accounts/store.js';
import { KeyRing } from '../keys/ring.js';
import { KeyLimiter } from '../keys/limits.js';
import { closeDispatchers } from '../accounts/http.js';
import { ImageCache } from '../features/image-cache.js';
import { UsageBook } from '../usage/book.js';
import { History } from '../usage/history.js';
import { AdminAuth, loadSecret } from '../admin/auth.js';
import { Metrics } from '../metrics/registry.js';
import { WarmPool } from '../runtime/warm-pool.js';
import { MemoryState } from '../state/memory-state.js';
import { RedisState } from '../state/redis-state.js';
import { ResilientState } from '../state/resilient-state.js';
import type { Provider } from '../core/provider.js';

export interface RunningServer {
  url: string;
  port: number;
  server: http.Server;
  /** the providers serving requests (the start-up report probes these) */
  providers: readonly Provider[];
  /** graceful shutdown; resolves when everything is released */
  close(graceMs?: number): Promise<void>;
}

/** stored aliases over MODEL_ALIASES; one object while the stored ones stay */
function aliasesOf(store: AccountStore, env: Record<string, string>): () => Record<string, string> {
  let memo: { stored: Record<string, string>; all: Record<string, string> } | undefined;
  return () => {
    const stored = store.aliases;
    if (memo?.stored !== stored) memo = { stored, all: { ...env, ...stored } };
    return memo.all;
  };
}

function routesOf(store: AccountStore, env: readonly ModelRoute[]): () => readonly ModelRoute[] {
  let memo: { stored: readonly ModelRoute[]; all: readonly ModelRoute[] } | undefined;
  return () => {
    const stored = store.routes;
    if (memo?.stored !== stored) {
      const mine = new Set(stored.map((r) => r.match));
      memo = { stored, all: [...stored, ...env.filter((r) => !mine.has(r.match))] };
    }
    return memo.all;
  };
}

export interface StartOptions {
  /**
   * a port in use: try up to this many following ports (0: fail at once). main.ts sets it when no
   * port was chosen (no PORT, no --port); a port that was chosen is never swapped for another.
   */
  portFallback?: number;
}

/** the server could not listen: a message that says what to change (main.ts prints it without a stack) */
export class ListenError extends Error {
  override readonly name = 'ListenError';
}

/** listens on `port`, or the next free one within `fallback` more when it is in use; returns the port */
async function listen(server: http.Server, port: number, host: string, fallback: number, log: Logger): Promise<number> {
  for (let p = port; ; p++) {
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(p, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const { port: bound } = server.address() as AddressInfo;
      if (p !== port) log.warn({ port, listening: bound }, `port ${port} is in use; listening on ${bound}`);
      return bound;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' && port !== 0 && p < port + fallback && p < 65_535) continue;
      const where = `${host.includes(':') ? `[${host}]` : host}:${p}`;
      const why =
        code === 'EADDRINUSE'
          ? fallback > 0
            ? `ports ${port} to ${p} on ${host} are all in use: set PORT or --port to a free one`
            : `port ${port} on ${host} is in use (chosen with PORT or --port): stop what is using it, or choose another port`
          : code === 'EACCES'
            ? `not allowed to listen on ${where} (ports below 1024 need privileges): choose another port`
            : code === 'EADDRNOTAVAIL'
              ? `${host} is not an address of this machine (HOST or --host)`
              : `cannot listen on ${where}: ${(err as Error).message}`;
      throw new ListenError(why, { cause: err });
    }
  }
}

export async function startServer(config: Config, log: Logger, env: NodeJS.ProcessEnv = process.env, opts: StartOptions = {}): Promise<RunningServer> {
  let providers: readonly Provider[] = [];
  let metrics: Metrics | undefined;
  const templateDir = config.SANDBOX_TEMPLATE_DIR || DEFAULT_TEMPLATE_DIR;
  const warm = new WarmPool({ size: config.WARM_POOL_SIZE, idleMs: config.WARM_POOL_IDLE * 1000, templateDir, onError: (err) => log.warn({ err: String(err) }, 'warm pool') });
  const pool = new WorkerPool({
    concurrency: config.WORKER_CONCURRENCY,
    queueLimit: config.QUEUE_LIMIT,
    queueTimeoutMs: config.QUEUE_TIMEOUT,
    onWait: (ms) => metrics?.queueWaited(ms),
    reclaim: () => warm.reclaim(),
  });
  warm.attach(pool);
  metrics = new Metrics({ providers: () => providers, pool, warm });
  const cleanup = new SessionCleanup({
    enabled: config.CLEANUP_SESSIONS,
    delayMs: Math.round(config.CLEANUP_DELAY_MINUTES * 60_000),
    stateDir: config.STATE_DIR || path.join(env.HOME ?? os.homedir(), '.cligate'),
    onError: (err) => log.warn({ err: String(err) }, 'session cleanup failed'),
  });
  await cleanup.start(); // the start-up sweep: what came due while we were down goes now
  const runtime = { pool, templateDir, timeoutMs: config.MAX_TIMEOUT, firstTokenMs: config.FIRST_TOKEN_TIMEOUT * 1000, cleanup, warm, preambleHoldMs: config.PREAMBLE_HOLD_MS };
  const store = await AccountStore.open(path.resolve(config.DATA_DIR));
  // Redis behind a deadline with this process's memory as the fallback (src/state/resilient-state.ts)
  const shared = config.REDIS_URL ? await ResilientState.create(await RedisState.connect(config.REDIS_URL, config.REDIS_PREFIX), { deadlineMs: config.REDIS_DEADLINE_MS, log }) : new MemoryState();
  if (shared instanceof ResilientState) metrics.sharedState(shared);
  await store.share(shared);
  if (shared.kind === 'redis') log.info({ prefix: config.REDIS_PREFIX, deadlineMs: config.REDIS_DEADLINE_MS }, 'sharing state through Redis');
  const images = new ImageCache(path.resolve(config.DATA_DIR, 'images'), config.IMAGE_CACHE_TTL_MINUTES * 60_000);
  await images.start();
  const usageDir = path.resolve(config.DATA_DIR, 'usage');
  const usage = new UsageBook(usageDir, config.USAGE_RETENTION_DAYS);
  const history = new History(usageDir, config.USAGE_RETENTION_DAYS, { enabled: config.HISTORY_ENABLED, maxChars: config.HISTORY_MAX_CHARS, limit: config.HISTORY_LIMIT });
  await usage.start();
  await history.start();
  // retention: day files past it are deleted, hourly
  const sweeper = setInterval(() => {
    usage.prune();
    void usage.log.sweep().catch(() => {});
    void history.log.sweep().catch(() => {});
  }, 3_600_000);
  sweeper.unref();
  const auth = new AdminAuth(config.ADMIN_PASSWORD, config.ADMIN_PASSWORD ? await loadSecret(path.resolve(config.DATA_DIR)) : randomBytes(32), config.ADMIN_SESSION_HOURS * 3_600_000);
  const events = { refreshed: (p: string, ok: boolean) => metrics.refreshed(p, ok), failed: (p: string, outcome: string) => metrics.accountFailed(p, outcome) };
  providers = createProviders(config, runtime, env, { store, images, events, shared });
  const router = new Router(providers, {
    // stored aliases (admin console) over MODEL_ALIASES
    aliases: aliasesOf(store, config.MODEL_ALIASES),
    // stored routes (admin console) first, then MODEL_ROUTES; one list while neither changes
    routes: routesOf(store, config.MODEL_ROUTES),
    order: config.PROVIDER_ORDER,
    thinkingSuffix: config.THINKING_SUFFIX,
    revision: () => store.revision,
    // the model list shows what can answer now, judged as the console's overview judges it
    readiness: (p) => providerView(p),
  });
  let draining = false;
  const keys = { ring: new KeyRing(store, shared), limiter: new KeyLimiter(shared) };
  const admin = { config, store, router, usage, history, log, auth, warm, keys };
  // WARM_POOL_MODELS: warmed before the first request (for requests without a system prompt)
  for (const model of config.WARM_POOL_MODELS) {
    try {
      const route = router.resolve(model);
      route.provider.prewarm?.(route.model);
    } catch (err) {
      log.warn({ model, err: (err as Error).message }, 'WARM_POOL_MODELS: cannot warm this model');
    }
  }
  const { handle, inflight } = createApp({ config, router, pool, warm, log, images, admin, metrics, shared, keys, isDraining: () => draining });

  // node checks the headers timeout this often (its default, 30 s, would double a short one)
  const server = http.createServer({ connectionsCheckingInterval: Math.min(1000, config.HEADERS_TIMEOUT) }, handle);
  // node's request timeout would answer a slow body with a bare 408; BODY_TIMEOUT answers it in the
  // route's dialect (body.ts). Once the request is in, the answer may stream for up to MAX_TIMEOUT.
  server.requestTimeout = 0;
  server.headersTimeout = config.HEADERS_TIMEOUT;
  server.keepAliveTimeout = config.KEEPALIVE_TIMEOUT;
  const port = await listen(server, config.PORT, config.HOST, opts.portFallback ?? 0, log);
  // the token estimator's tables are built once listening, not in the first request that needs them
  setTimeout(warmTokenizer, 0).unref();
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;

  let closing: Promise<void> | undefined;
  const close = (graceMs = config.SHUTDOWN_GRACE) =>
    (closing ??= (async () => {
      draining = true;
      log.info({ inFlight: inflight.size, graceMs }, 'draining');
      server.close();
      server.closeIdleConnections();
      const drained = await inflight.idle(graceMs);
      if (!drained) {
        log.warn({ inFlight: inflight.size }, 'grace period over: aborting the remaining requests');
        inflight.abortAll(new Unavailable('The server shut down before the request finished.', { code: 'shutting_down' }));
        await inflight.idle(5_000);
      }
      await warm.close(); // idle warm processes hold slots: they go first
      await pool.drain(0);
      await backgroundSettled(); // sandboxes removed, pending cleanups recorded
      cleanup.close();
      images.stop();
      clearInterval(sweeper);
      await Promise.all([usage.log.flush(), history.log.flush()]);
      await closeDispatchers();
      await Promise.all(router.all().map((p) => p.close?.()));
      server.closeAllConnections();
      await shared.close();
      log.info('stopped');
    })());

  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, port, server, providers, close };
}
