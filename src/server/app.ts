/**
 * The express application: middleware order, routes, error handling. It knows
 * surfaces and the router, never a particular provider. Each route group names
 * its surface first, so every error on it (auth, body, limits) is in its dialect.
 */
import { featureOptions } from '../features/pipeline.js';
import type { ImageCache } from '../features/image-cache.js';
import { imageRoute } from './routes/image.js';
import { accountLimitsRoute } from './routes/account-limits.js';
import express, { type RequestHandler } from 'express';
import cors from 'cors';
import type { Config } from '../config.js';
import type { Router } from '../routing/router.js';
import type { Logger } from '../log.js';
import { NotFound, NotImplemented, Unavailable } from '../core/errors.js';
import { openaiSurface } from '../surfaces/openai/index.js';
import { anthropicSurface } from '../surfaces/anthropic/index.js';
import { geminiSurface, backendProxySurface } from '../surfaces/gemini/index.js';
import type { Surface } from '../surfaces/types.js';
import type { WorkerPool } from '../runtime/pool.js';
import type { WarmPool } from '../runtime/warm-pool.js';
import { chatHandler, type ChatHandlerDeps } from './chat-handler.js';
import { countTokensHandler } from './count-handler.js';
import { errorHandler, refuseDeepJson } from './errors.js';
import { requireApiKey } from './auth.js';
import { perMinute } from './rate-limit.js';
import { requestLog } from './request-log.js';
import { InFlight } from './inflight.js';
import { healthRoute } from './routes/health.js';
import { modelsRoutes } from './routes/models.js';
import { geminiModelsRoutes } from './routes/gemini-models.js';
import { authStatusRoute } from './routes/auth-status.js';
import { adminApi, adminConsole } from '../admin/index.js';
import type { AdminDeps } from '../admin/deps.js';
import type { AdminAuth } from '../admin/auth.js';
import { requestRecorder } from '../usage/recorder.js';
import type { Metrics } from '../metrics/registry.js';
import type { SharedState } from '../state/shared-state.js';

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
  /** Prometheus metrics served at /metrics */
  metrics?: Metrics;
  /** flips to true when draining: new requests are refused */
  isDraining?: () => boolean;
}

const useSurface = (surface: Surface): RequestHandler => (_req, res, next) => {
  res.locals.surface = surface;
  next();
};

export function createApp(deps: AppDeps) {
  const { config, router, log } = deps;
  const inflight = deps.inflight ?? new InFlight();
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.set('query parser', 'simple');

  app.use(requestLog(log));
  app.use(requestRecorder({ ...(deps.admin ? { usage: deps.admin.usage, history: deps.admin.history } : {}), ...(deps.metrics ? { metrics: deps.metrics } : {}) }));
  const corsMw = cors({ origin: config.CORS_ORIGINS.includes('*') ? true : config.CORS_ORIGINS, maxAge: 600 });
  // the admin API and console are same-origin only: no CORS headers for them
  const isAdminPath = (p: string) => p === '/admin' || p.startsWith('/admin/') || (p.startsWith('/api/') && !p.startsWith('/api/ai/'));
  app.use((req, res, next) => (isAdminPath(req.path) ? next() : corsMw(req, res, next)));

  const limits = (n: number, what: string) => perMinute(n, what, config.RATE_LIMIT_ENABLED, deps.shared?.rateLimitStore(what.replace(/\W+/g, '-')));
  const chatLimit = limits(config.RATE_LIMIT_CHAT_PER_MINUTE, 'chat');
  const countLimit = limits(config.RATE_LIMIT_COUNT_TOKENS_PER_MINUTE, 'count-tokens');
  const modelsLimit = limits(config.RATE_LIMIT_MODELS_PER_MINUTE, 'models');
  // non-strict: a JSON string or array is valid JSON, and the surface says it must be an object
  const json = express.json({ limit: config.BODY_LIMIT, strict: false, verify: refuseDeepJson });
  const chatDeps: ChatHandlerDeps = { router, inflight, keepaliveMs: config.SSE_KEEPALIVE_INTERVAL * 1000, features: featureOptions(config), internalApiKey: config.INTERNAL_API_KEY, log, historyChars: config.HISTORY_ENABLED ? config.HISTORY_MAX_CHARS : 0 };
  const notDraining: RequestHandler = (_req, res, next) => {
    if (!deps.isDraining?.()) return next();
    res.set('Connection', 'close');
    next(new Unavailable('The server is shutting down; retry shortly.', { code: 'shutting_down' }));
  };
  const guard = [notDraining, requireApiKey(config.API_KEY)];

  const healthLimit = limits(config.RATE_LIMIT_HEALTH_PER_MINUTE, 'health');
  app.get('/health', healthLimit, healthRoute(deps, inflight));
  if (deps.metrics) {
    const registry = deps.metrics.registry;
    // behind the API key like the API, unless METRICS_PUBLIC (a scraper inside a private network)
    app.get('/metrics', healthLimit, ...(config.METRICS_PUBLIC ? [] : [requireApiKey(config.API_KEY)]), async (_req, res) => {
      res.set('Content-Type', registry.contentType).send(await registry.metrics());
    });
  }
  app.get('/account-limits', modelsLimit, ...guard, accountLimitsRoute(router));
  // no API key: clients render these links without credentials; names are content hashes
  if (deps.images) app.get('/image/:file', modelsLimit, imageRoute(deps.images));
  // clients (Claude Code among them) probe the base URL before their first call
  app.get('/', healthLimit, (_req, res) => {
    res.json({ name: 'cligate', endpoints: ['/v1/chat/completions', '/v1/messages', '/v1beta/models', '/api/ai/generate', '/health'] });
  });

  // --- OpenAI and Anthropic share /v1; /v1/messages* is Anthropic's ---
  const v1 = express.Router();
  v1.use((req, res, next) => {
    res.locals.surface = req.path.startsWith('/messages') ? anthropicSurface : openaiSurface;
    next();
  });
  v1.use(guard);
  v1.use(modelsRoutes(router, modelsLimit));
  v1.get('/auth/status', limits(config.RATE_LIMIT_AUTH_STATUS_PER_MINUTE, 'auth status'), authStatusRoute(deps));
  v1.post('/chat/completions', chatLimit, json, chatHandler(openaiSurface, chatDeps));
  v1.post('/messages/count_tokens', countLimit, json, countTokensHandler(anthropicSurface));
  v1.post('/messages', chatLimit, json, chatHandler(anthropicSurface, chatDeps));
  app.use('/v1', v1);

  // --- Gemini: /v1beta/models/{model}:{method} ---
  const v1beta = express.Router();
  v1beta.use(useSurface(geminiSurface), guard);
  v1beta.use(geminiModelsRoutes(router, modelsLimit));
  // "{model}:{method}" is one path segment: each route splits it and keeps its own method
  const method =
    (name: string): RequestHandler =>
    (req, _res, next) => {
      const target = String(req.params.target);
      const at = target.lastIndexOf(':');
      if (at <= 0 || target.slice(at + 1) !== name) return next('route');
      Object.assign(req.params, { model: target.slice(0, at), method: name });
      next();
    };
  const geminiChat = chatHandler(geminiSurface, chatDeps);
  v1beta.post('/models/:target', method('generateContent'), chatLimit, json, geminiChat);
  v1beta.post('/models/:target', method('streamGenerateContent'), chatLimit, json, geminiChat);
  v1beta.post('/models/:target', method('countTokens'), countLimit, json, countTokensHandler(geminiSurface));
  v1beta.post('/models/:target', (req, _res, next) =>
    next(new NotFound(`Unknown method '${String(req.params.target)}': use {model}:generateContent, :streamGenerateContent or :countTokens.`, { code: 'unknown_url' })),
  );
  app.use('/v1beta', v1beta);

  // --- the backend-proxy endpoints of a Gemini CLI built for one ---
  const apiAi = express.Router();
  apiAi.use(useSurface(backendProxySurface), guard);
  const proxyChat = chatHandler(backendProxySurface, chatDeps);
  const named = (name: string): RequestHandler => (req, _res, next) => {
    req.params.method = name;
    next();
  };
  apiAi.post('/generate', named('generate'), chatLimit, json, proxyChat);
  apiAi.post('/generate-stream', named('generate-stream'), chatLimit, json, proxyChat);
  apiAi.post('/count-tokens', countLimit, json, countTokensHandler(backendProxySurface));
  apiAi.post('/embed', (_req, _res, next) =>
    next(
      new NotImplemented('No embedding provider is configured: none of the configured providers can embed.', {
        code: 'embeddings_not_configured',
      }),
    ),
  );
  app.use('/api/ai', apiAi);

  // --- admin API and console ---
  if (deps.admin) {
    app.use('/api', adminApi(deps.admin, deps.admin.auth, limits(config.RATE_LIMIT_ADMIN_LOGIN_PER_MINUTE, 'admin login')));
    app.get('/admin', (req, res, next) => (req.originalUrl.endsWith('/') || req.originalUrl.includes('/?') ? next() : res.redirect(301, '/admin/')));
    app.use('/admin', adminConsole());
  }

  app.use((req, _res, next) => next(new NotFound(`Unknown endpoint: ${req.method} ${req.originalUrl.split('?')[0]}`, { code: 'unknown_url' })));
  app.use(errorHandler(openaiSurface, log));
  return { app, inflight };
}
