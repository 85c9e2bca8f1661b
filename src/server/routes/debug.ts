/**
 * `/v1/debug/request`: what cligate makes of a request, without calling any provider. Served only
 * while debug logging is on (LOG_LEVEL debug or trace; clis-wrapper's DEBUG_MODE / VERBOSE set
 * that), else it is an unknown route like any other. Behind the API key like the rest of /v1.
 *
 *   POST /v1/debug/request   {"dialect"?: "openai"|"anthropic"|"gemini"|"responses", "body": {…},
 *                             "model"?: "…", "stream"?: bool}   (model, stream: Gemini's, from its URL)
 *   POST /v1/debug/request?dialect=anthropic   with the request itself as the body (as
 *                             clis-wrapper's endpoint took a chat completion body; dialect: openai)
 *   GET  /v1/debug/request?model=NAME          only the route a model name takes
 *
 * The answer: the dialect, the decoded ChatRequest (images as their media type and size), and the
 * route plan: the configured route that matched, the targets in the order they are tried. A request
 * the dialect refuses gets that dialect's error, as the real endpoint would answer it.
 */
import express, { type RequestHandler } from 'express';
import type { Router } from '../../routing/router.js';
import type { ChatRequest, ContentPart } from '../../core/request.js';
import { BadRequest, toCligateError } from '../../core/errors.js';
import type { RequestInfo, Surface } from '../../surfaces/types.js';
import { openaiSurface } from '../../surfaces/openai/index.js';
import { anthropicSurface } from '../../surfaces/anthropic/index.js';
import { geminiSurface } from '../../surfaces/gemini/index.js';
import type { ApiHandler } from '../http-types.js';

export interface DebugRouteDeps {
  /** debug logging is on: without it the routes are not there */
  enabled: boolean;
  router: Router;
  /** the Responses surface of this app (it reads the app's store of earlier answers) */
  responses: Surface;
  /** the body reader of the API routes (BODY_LIMIT, BODY_TIMEOUT) */
  json: ApiHandler;
  limit: readonly RequestHandler[];
}

const DIALECTS = ['openai', 'anthropic', 'gemini', 'responses'] as const;
type Dialect = (typeof DIALECTS)[number];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** a part as the echo shows it: an image by its media type and size, never its bytes */
function elide(part: ContentPart): unknown {
  if (part.type !== 'image') return part;
  const { data, url, ...rest } = part;
  return {
    ...rest,
    ...(data !== undefined ? { bytes: Buffer.byteLength(data, 'base64') } : {}),
    ...(url !== undefined ? { url: url.length > 200 ? `${url.slice(0, 200)}…` : url } : {}),
  };
}

function echoRequest(chat: ChatRequest): unknown {
  return { ...chat, messages: chat.messages.map((m) => ({ ...m, content: m.content.map(elide) })) };
}

/** the route plan of a model name, or why there is none (as the chat endpoint would refuse it) */
function explainRoute(router: Router, model: string): unknown {
  try {
    const plan = router.plan(model);
    return {
      requested: plan.requested,
      route: plan.route ?? null,
      targets: plan.targets.map((t) => ({ provider: t.provider.id, model: t.model, target: t.target, progress: t.progress, thinking: t.thinking })),
      skipped: plan.skipped,
    };
  } catch (err) {
    const e = toCligateError(err);
    if (e.status >= 500) throw e;
    return { requested: model, error: { status: e.status, code: e.code, message: e.message } };
  }
}

function oneOf(value: unknown, param: string): Dialect | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && (DIALECTS as readonly string[]).includes(value)) return value as Dialect;
  throw new BadRequest(`'${param}' must be one of ${DIALECTS.join(', ')}.`, { param, code: 'invalid_value' });
}

function optional<T>(value: unknown, type: 'string' | 'boolean', param: string): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== type) throw new BadRequest(`'${param}' must be a ${type}.`, { param, code: 'invalid_type' });
  return value as T;
}

export function debugRoutes(deps: DebugRouteDeps): express.Router {
  const r = express.Router();
  if (!deps.enabled) return r;
  const surfaces: Record<Dialect, Surface> = { openai: openaiSurface, anthropic: anthropicSurface, gemini: geminiSurface, responses: deps.responses };

  r.get('/debug/request', ...deps.limit, (req, res) => {
    const model = req.query.model;
    if (typeof model !== 'string' || !model) {
      throw new BadRequest("GET /v1/debug/request explains a model name: add ?model=NAME. To see how a whole request is decoded, POST it: {\"dialect\": \"openai\", \"body\": {…}}.", { param: 'model', code: 'missing_model' });
    }
    res.json({ object: 'debug.request', route: explainRoute(deps.router, model) });
  });

  r.post('/debug/request', ...deps.limit, deps.json as unknown as RequestHandler, async (req, res) => {
    const given: unknown = req.body;
    if (!isObject(given)) throw new BadRequest('The body must be a JSON object: {"dialect"?, "body": {…}}, or the request itself.', { code: 'invalid_body' });
    // {dialect?, body, model?, stream?}, or the request itself (dialect from ?dialect=, else openai)
    const wrapped = Object.hasOwn(given, 'body');
    if (wrapped && !isObject(given.body)) throw new BadRequest("'body' must be an object: the request as its endpoint takes it.", { param: 'body', code: 'invalid_type' });
    const body = wrapped ? (given.body as Record<string, unknown>) : given;
    const dialect = (wrapped ? oneOf(given.dialect, 'dialect') : undefined) ?? oneOf(req.query.dialect, 'dialect') ?? 'openai';
    const model = (wrapped ? optional<string>(given.model, 'string', 'model') : undefined) ?? optional<string>(req.query.model, 'string', 'model');
    const stream = wrapped ? optional<boolean>(given.stream, 'boolean', 'stream') : undefined;
    // Gemini takes the model and streaming from its URL: /v1beta/models/{model}:{method}
    const params: Record<string, string> =
      dialect === 'gemini' ? { model: model ?? (typeof body.model === 'string' ? body.model : ''), method: stream ? 'streamGenerateContent' : 'generateContent' } : {};
    if (dialect === 'gemini' && !params.model) throw new BadRequest("A Gemini request names its model in the URL: give it as 'model' beside 'body'.", { param: 'model', code: 'missing_model' });
    if (dialect === 'gemini') params.target = `${params.model}:${params.method}`;
    const surface = surfaces[dialect];
    // from here on, a refusal is the one the dialect's own endpoint would give
    res.locals.surface = surface;
    const info: RequestInfo = { headers: req.headers, params, query: req.query as Record<string, unknown> };
    const chat = await surface.decode(body, info);
    res.json({ object: 'debug.request', dialect, request: echoRequest(chat), route: explainRoute(deps.router, chat.model) });
  });
  return r;
}
