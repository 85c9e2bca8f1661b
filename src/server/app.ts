/**
 * The HTTP application: middleware order, routes, error handling. The chat and count
 * endpoints are hot routes (hot-routes.ts, node's own objects); everything else is an
 * express app. It knows surfaces and the router, never a particular provider. Each route
 * names its surface first, so every error on it (auth, body, limits) is in its dialect.
 */
import { featureOptions } from '../features/pipeline.js';
import { imageRoute } from './routes/image.js';
import { accountLimitsRoute } from './routes/account-limits.js';
import express, { type RequestHandler } from 'express';
import cors from 'cors';
import { CligateError, NotFound, NotImplemented, Unavailable } from '../core/errors.js';
import { openaiSurface } from '../surfaces/openai/index.js';
import { anthropicSurface } from '../surfaces/anthropic/index.js';
import { geminiSurface, backendProxySurface } from '../surfaces/gemini/index.js';
import type { Surface } from '../surfaces/types.js';
import { chatHandler, type ChatHandlerDeps } from './chat-handler.js';
import { countTokensHandler } from './count-handler.js';
import { errorHandler } from './errors.js';
import { jsonBody } from './body.js';
import { requireApiKey } from './auth.js';
import { keyLimits, keyTokens } from './key-limits.js';
import { perMinute } from './rate-limit.js';
import { requestLog } from './request-log.js';
import { withHotRoutes, type HotMatch, type HotRoutes } from './hot-routes.js';
import { TRUST_PROXY, type ApiHandler } from './http-types.js';
import { InFlight } from './inflight.js';
import type { AppDeps } from './app-deps.js';
import { healthRoute } from './routes/health.js';
import { modelsRoutes } from './routes/models.js';
import { responsesRoutes } from './routes/responses.js';
import { responsesSurface, responseStore } from '../surfaces/responses/index.js';
import { geminiModelsRoutes } from './routes/gemini-models.js';
import { authStatusRoute } from './routes/auth-status.js';
import { debugRoutes } from './routes/debug.js';
import { adminApi, adminConsole } from '../admin/index.js';
import { requestRecorder } from '../usage/recorder.js';

export function createApp(deps: AppDeps) {
  const { config, router, log } = deps;
  const inflight = deps.inflight ?? new InFlight();
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', TRUST_PROXY);
  app.set('query parser', 'simple');
  app.set('etag', false); // API answers are not cached; hashing every body costs a hash per request

  const handleError = errorHandler(openaiSurface, log);
  const recorder = requestRecorder({ ...(deps.admin ? { usage: deps.admin.usage, history: deps.admin.history } : {}), ...(deps.metrics ? { metrics: deps.metrics } : {}) });
  // a browser client may read which provider served and the rate limit's state
  const exposedHeaders = ['X-Request-ID', 'x-cligate-provider', 'x-cligate-attempts', 'Retry-After', 'RateLimit', 'RateLimit-Policy'];
  const corsMw = cors({ origin: config.CORS_ORIGINS.includes('*') ? true : config.CORS_ORIGINS, maxAge: 600, exposedHeaders });
  // the admin API and console are same-origin only: no CORS headers for them
  const isAdminPath = (p: string) => p === '/admin' || p.startsWith('/admin/') || (p.startsWith('/api/') && !p.startsWith('/api/ai/'));
  const apiCors: ApiHandler = (req, res, next) => {
    // no Origin, no browser reading the answer: Vary is the only CORS header such a request gets
    if (req.headers.origin === undefined && req.method !== 'OPTIONS') {
      res.setHeader('Vary', 'Origin');
      return next();
    }
    corsMw(req, res, next);
  };
  const logRequest = requestLog(log, deps.keys ? [recorder, keyTokens(deps.keys.limiter)] : [recorder]);
  app.use(logRequest);
  app.use((req, res, next) => (isAdminPath(req.path) ? next() : apiCors(req, res, next)));

  // a limit that is off adds no layer to the routes (the spread of an empty list)
  const limits = (n: number, what: string): RequestHandler[] =>
    config.RATE_LIMIT_ENABLED ? [perMinute(n, what, deps.shared?.rateLimitStore(what.replace(/\W+/g, '-')))] : [];
  // then the calling key's own limits (requests per minute, tokens per day, in flight)
  const chatLimit: RequestHandler[] = [...limits(config.RATE_LIMIT_CHAT_PER_MINUTE, 'chat'), ...(deps.keys ? [keyLimits(deps.keys.limiter, (key, code) => deps.metrics?.keyRefused(key, code)) as unknown as RequestHandler] : [])];
  const countLimit = limits(config.RATE_LIMIT_COUNT_TOKENS_PER_MINUTE, 'count-tokens');
  const modelsLimit = limits(config.RATE_LIMIT_MODELS_PER_MINUTE, 'models');
  // within BODY_LIMIT and BODY_TIMEOUT, or 413 / 408 in the route's dialect (body.ts)
  const json = jsonBody({ limit: config.BODY_LIMIT, timeoutMs: config.BODY_TIMEOUT });
  const chatDeps: ChatHandlerDeps = { router, inflight, keepaliveMs: config.SSE_KEEPALIVE_INTERVAL * 1000, features: featureOptions(config), internalApiKey: config.INTERNAL_API_KEY, log, historyChars: config.HISTORY_ENABLED ? config.HISTORY_MAX_CHARS : 0 };
  const apiKey = requireApiKey(config.API_KEY, deps.keys?.ring);
  // the Responses dialect keeps answers for previous_response_id (in Redis when instances share state)
  const responsesStore = responseStore({ ttlMs: config.RESPONSES_STORE_TTL * 1000, maxBytes: config.RESPONSES_STORE_MAX_BYTES }, deps.shared);
  const responses = responsesSurface(responsesStore);
  /** every API route starts here: its surface (so every later error is in its dialect), draining, the API key */
  const enter =
    (surface?: Surface): ApiHandler =>
    (req, res, next) => {
      if (surface) res.locals.surface = surface;
      if (deps.isDraining?.()) {
        res.setHeader('Connection', 'close');
        return next(new Unavailable('The server is shutting down; retry shortly.', { code: 'shutting_down' }));
      }
      apiKey(req, res, next);
    };

  // --- the chat and count endpoints: served before express (hot-routes.ts) ---
  // express-rate-limit and body-parser are connect-style and work on node's own objects (the hot routes set req.ip)
  const hotChatLimit = chatLimit as unknown as ApiHandler[];
  const hotCountLimit = countLimit as unknown as ApiHandler[];
  const hotJson = json;
  const before = [logRequest, apiCors];
  const exact = new Map<string, HotMatch>([
    ['/v1/chat/completions', { handlers: [...before, enter(openaiSurface), ...hotChatLimit, hotJson, chatHandler(openaiSurface, chatDeps)] }],
    ['/v1/responses', { handlers: [...before, enter(responses), ...hotChatLimit, hotJson, chatHandler(responses, chatDeps)] }],
    ['/v1/messages', { handlers: [...before, enter(anthropicSurface), ...hotChatLimit, hotJson, chatHandler(anthropicSurface, chatDeps)] }],
    ['/v1/messages/count_tokens', { handlers: [...before, enter(anthropicSurface), ...hotCountLimit, hotJson, countTokensHandler(anthropicSurface)] }],
  ]);
  // Gemini: /v1beta/models/{model}:{method}, "{model}:{method}" one path segment; the method picks the chain
  const geminiChat = chatHandler(geminiSurface, chatDeps);
  const enterGemini = [...before, enter(geminiSurface)];
  const geminiMethods: Record<string, ApiHandler[]> = {
    generateContent: [...enterGemini, ...hotChatLimit, hotJson, geminiChat],
    streamGenerateContent: [...enterGemini, ...hotChatLimit, hotJson, geminiChat],
    countTokens: [...enterGemini, ...hotCountLimit, hotJson, countTokensHandler(geminiSurface)],
  };
  const refuse = (err: Error): ApiHandler[] => [...enterGemini, (_req, _res, next) => next(err)];
  const GEMINI_PREFIX = '/v1beta/models/';
  const hot: HotRoutes = {
    needsIp: config.RATE_LIMIT_ENABLED,
    onError: (err, req, res) => handleError(err, req, res, () => {}),
    find(path, rawPath) {
      const found = exact.get(path);
      if (found || !path.startsWith(GEMINI_PREFIX)) return found;
      const segment = rawPath.slice(GEMINI_PREFIX.length);
      if (!segment || segment.includes('/')) return undefined;
      let target: string;
      try {
        target = decodeURIComponent(segment);
      } catch {
        return { handlers: refuse(new CligateError('bad_request', 400, `The request cannot be read: the path segment '${segment}' does not decode.`, { code: 'unreadable_request' })) };
      }
      const at = target.lastIndexOf(':');
      const method = at > 0 ? target.slice(at + 1) : '';
      const params = { target, model: at > 0 ? target.slice(0, at) : target, method };
      if (Object.hasOwn(geminiMethods, method)) return { handlers: geminiMethods[method]!, params };
      return { handlers: refuse(new NotFound(`Unknown method '${target}': use {model}:generateContent, :streamGenerateContent or :countTokens.`, { code: 'unknown_url' })), params };
    },
  };

  const healthLimit = limits(config.RATE_LIMIT_HEALTH_PER_MINUTE, 'health');
  app.get('/health', ...healthLimit, healthRoute(deps, inflight));
  if (deps.metrics) {
    const registry = deps.metrics.registry;
    // behind the API key like the API, unless METRICS_PUBLIC (a scraper inside a private network)
    app.get('/metrics', ...healthLimit, ...(config.METRICS_PUBLIC ? [] : [requireApiKey(config.API_KEY, deps.keys?.ring, { masterOnly: true })]), async (_req, res) => {
      res.set('Content-Type', registry.contentType).send(await registry.metrics());
    });
  }
  app.get('/account-limits', ...modelsLimit, enter(), accountLimitsRoute(router));
  // no API key: clients render these links without credentials; names are content hashes
  if (deps.images) app.get('/image/:file', ...modelsLimit, imageRoute(deps.images));
  // clients (Claude Code among them) probe the base URL before their first call
  app.get('/', ...healthLimit, (_req, res) => {
    res.json({ name: 'cligate', endpoints: ['/v1/chat/completions', '/v1/responses', '/v1/messages', '/v1beta/models', '/api/ai/generate', '/health'] });
  });

  // --- the rest of /v1 (OpenAI and Anthropic share it; /v1/messages* is Anthropic's) ---
  const v1 = express.Router();
  const [enterOpenAI, enterAnthropic] = [enter(openaiSurface), enter(anthropicSurface)];
  v1.use((req, res, next) => (req.path.startsWith('/messages') ? enterAnthropic : enterOpenAI)(req, res, next));
  v1.use(modelsRoutes(router, modelsLimit));
  // reads of stored answers: as cheap as the model list, counted on their own
  v1.use(responsesRoutes(responsesStore, limits(config.RATE_LIMIT_MODELS_PER_MINUTE, 'stored responses')));
  v1.get('/auth/status', ...limits(config.RATE_LIMIT_AUTH_STATUS_PER_MINUTE, 'auth status'), authStatusRoute(deps));
  v1.use(debugRoutes({ enabled: config.LOG_LEVEL === 'debug' || config.LOG_LEVEL === 'trace', router, responses, json, limit: limits(config.RATE_LIMIT_DEBUG_PER_MINUTE, 'debug') }));
  app.use('/v1', v1);

  // --- the rest of Gemini's /v1beta ---
  const v1beta = express.Router();
  v1beta.use(enter(geminiSurface));
  v1beta.use(geminiModelsRoutes(router, modelsLimit));
  app.use('/v1beta', v1beta);

  // --- the backend-proxy endpoints of a Gemini CLI built for one ---
  const apiAi = express.Router();
  apiAi.use(enter(backendProxySurface));
  const proxyChat = chatHandler(backendProxySurface, chatDeps);
  const named = (name: string): RequestHandler => (req, _res, next) => {
    req.params.method = name;
    next();
  };
  const expressJson = json as unknown as RequestHandler;
  apiAi.post('/generate', named('generate'), ...chatLimit, expressJson, proxyChat);
  apiAi.post('/generate-stream', named('generate-stream'), ...chatLimit, expressJson, proxyChat);
  apiAi.post('/count-tokens', ...countLimit, expressJson, countTokensHandler(backendProxySurface));
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
    app.use('/admin', adminConsole(deps.admin.auth));
  }

  app.use((req, _res, next) => next(new NotFound(`Unknown endpoint: ${req.method} ${req.originalUrl.split('?')[0]}`, { code: 'unknown_url' })));
  app.use(handleError);
  return { app, inflight, handle: withHotRoutes(hot, app) };
}
