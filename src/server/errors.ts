/** Rendering errors in the dialect of the route, and the last-resort error handler. */
import type { ApiRequest, ApiResponse, Next } from './http-types.js';
import { BadRequest, CligateError, PayloadTooLarge, toCligateError } from '../core/errors.js';
import { jsonDepth, MAX_JSON_DEPTH } from '../core/json-depth.js';
import type { Surface } from '../surfaces/types.js';
import type { Logger } from '../log.js';

export function sendError(res: ApiResponse, surface: Surface, err: CligateError, log?: Logger): void {
  if (err.status >= 500) log?.error({ err: err.message, code: err.code, cause: String(err.cause ?? '') }, 'request failed');
  else log?.debug({ err: err.message, code: err.code }, 'request refused');
  res.locals.error = err;
  if (res.headersSent) {
    res.end();
    return;
  }
  if (err.retryAfter !== undefined) res.setHeader('Retry-After', String(err.retryAfter));
  sendJson(res, err.status, surface.errorBody(err));
}

/** a JSON answer written straight to the socket (express's res.json also parses and rebuilds the content type) */
export function sendJson(res: ApiResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/** express.json's verify hook: a body nested deeper than MAX_JSON_DEPTH is refused before it is parsed */
export function refuseDeepJson(_req: unknown, _res: unknown, buf: Buffer): void {
  const depth = jsonDepth(buf);
  if (depth > MAX_JSON_DEPTH) throw Object.assign(new Error(`The request body nests ${depth} levels deep; at most ${MAX_JSON_DEPTH} are accepted.`), { status: 400, code: 'json_too_deep' });
}

/** body-parser's and the router's errors carry a `type` or a 4xx `status`; map them to what the client must fix */
function fromBodyParser(err: unknown): CligateError | undefined {
  const e = err as { type?: string; limit?: number; message?: string; status?: number; expose?: boolean; code?: string };
  if (err instanceof CligateError) return undefined;
  switch (e?.type) {
    case 'entity.verify.failed':
      return new BadRequest(e.message ?? 'The request body was refused.', { code: e.code ?? 'invalid_body' });
    case 'entity.parse.failed':
      return new BadRequest(`The request body is not valid JSON: ${e.message ?? 'parse error'}`, { code: 'invalid_json' });
    case 'entity.too.large':
      return new PayloadTooLarge(`The request body is larger than the ${e.limit ?? ''} byte limit (BODY_LIMIT).`.replace('  ', ' '));
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new CligateError('bad_request', 415, `Unsupported body encoding: ${e.message ?? ''}`, { code: 'unsupported_encoding' });
    case 'request.aborted':
      return new BadRequest('The client aborted the request body.', { code: 'request_aborted' });
    default:
      // other client errors raised by express (a compressed body that does not inflate, a path that does not decode)
      if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) return new CligateError('bad_request', e.status, `The request cannot be read: ${e.message ?? 'bad request'}`, { code: 'unreadable_request' });
      return undefined;
  }
}

export function errorHandler(defaultSurface: Surface, log: Logger) {
  return (err: unknown, _req: ApiRequest, res: ApiResponse, _next: Next): void => {
    const surface = (res.locals.surface as Surface | undefined) ?? defaultSurface;
    sendError(res, surface, fromBodyParser(err) ?? toCligateError(err), log);
  };
}
