/**
 * The express application: middleware order, routes, error handling. It knows
 * surfaces and the router, never a particular provider.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import cors from 'cors';
import type { Config } from '../config.js';
import type { Router } from '../routing/router.js';
import type { Logger } from '../log.js';
import { NotFound, Unavailable } from '../core/errors.js';
import { openaiSurface } from '../surfaces/openai/index.js';
import type { Surface } from '../surfaces/types.js';
import type { WorkerPool } from '../runtime/pool.js';
import { chatHandler } from './chat-handler.js';
import { errorHandler } from './errors.js';
import { requireApiKey } from './auth.js';
import { perMinute } from './rate-limit.js';
import { requestLog } from './request-log.js';
import { InFlight } from './inflight.js';
import { healthRoute } from './routes/health.js';
import { modelsRoutes } from './routes/models.js';
import { authStatusRoute } from './routes/auth-status.js';

export interface AppDeps {
  config: Config;
  router: Router;
  pool: WorkerPool;
  log: Logger;
  inflight?: InFlight;
  /** flips to true when draining: new requests are refused */
  isDraining?: () => boolean;
}

const useSurface = (surface: Surface) => (_req: Request, res: Response, next: NextFunction) => {
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
  app.use(cors({ origin: config.CORS_ORIGINS.includes('*') ? true : config.CORS_ORIGINS, maxAge: 600 }));

  const limits = (n: number, what: string) => perMinute(n, what, config.RATE_LIMIT_ENABLED);
  app.get('/health', limits(config.RATE_LIMIT_HEALTH_PER_MINUTE, 'health'), healthRoute(deps, inflight));

  const v1 = express.Router();
  v1.use(useSurface(openaiSurface));
  v1.use((_req, _res, next) => {
    if (deps.isDraining?.()) {
      _res.set('Connection', 'close');
      return next(new Unavailable('The server is shutting down; retry shortly.', { code: 'shutting_down' }));
    }
    next();
  });
  v1.use(requireApiKey(config.API_KEY));
  // non-strict: a JSON string or array is valid JSON, and the surface says it must be an object
  const json = express.json({ limit: config.BODY_LIMIT, strict: false });

  v1.use(modelsRoutes(router, limits(config.RATE_LIMIT_MODELS_PER_MINUTE, 'models')));
  v1.get('/auth/status', limits(config.RATE_LIMIT_AUTH_STATUS_PER_MINUTE, 'auth status'), authStatusRoute(deps));
  v1.post(
    '/chat/completions',
    limits(config.RATE_LIMIT_CHAT_PER_MINUTE, 'chat'),
    json,
    chatHandler(openaiSurface, { router, inflight, keepaliveMs: config.SSE_KEEPALIVE_INTERVAL * 1000, log }),
  );
  v1.use((req, _res, next) => next(new NotFound(`Unknown endpoint: ${req.method} /v1${req.path}`, { code: 'unknown_url' })));
  app.use('/v1', v1);

  app.use((req, _res, next) => next(new NotFound(`Unknown endpoint: ${req.method} ${req.path}`, { code: 'unknown_url' })));
  app.use(errorHandler(openaiSurface, log));
  return { app, inflight };
}
