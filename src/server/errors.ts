/** Rendering errors in the dialect of the route, and the last-resort error handler. */
import type { NextFunction, Request, Response } from 'express';
import { BadRequest, CligateError, PayloadTooLarge, toCligateError } from '../core/errors.js';
import type { Surface } from '../surfaces/types.js';
import type { Logger } from '../log.js';

export function sendError(res: Response, surface: Surface, err: CligateError, log?: Logger): void {
  if (err.status >= 500) log?.error({ err: err.message, code: err.code, cause: String(err.cause ?? '') }, 'request failed');
  else log?.info({ err: err.message, code: err.code }, 'request refused');
  res.locals.error = err;
  if (res.headersSent) {
    res.end();
    return;
  }
  if (err.retryAfter !== undefined) res.set('Retry-After', String(err.retryAfter));
  res.status(err.status).json(surface.errorBody(err));
}

/** body-parser's errors carry a `type`; map them to what the client must fix */
function fromBodyParser(err: unknown): CligateError | undefined {
  const e = err as { type?: string; limit?: number; message?: string };
  switch (e?.type) {
    case 'entity.parse.failed':
      return new BadRequest(`The request body is not valid JSON: ${e.message ?? 'parse error'}`, { code: 'invalid_json' });
    case 'entity.too.large':
      return new PayloadTooLarge(`The request body is larger than the ${e.limit ?? ''} byte limit (BODY_LIMIT).`.replace('  ', ' '));
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new BadRequest(`Unsupported body encoding: ${e.message ?? ''}`, { code: 'unsupported_encoding' });
    case 'request.aborted':
      return new BadRequest('The client aborted the request body.', { code: 'request_aborted' });
    default:
      return undefined;
  }
}

export function errorHandler(defaultSurface: Surface, log: Logger) {
  return (err: unknown, _req: Request, res: Response, _next: NextFunction): void => {
    const surface = (res.locals.surface as Surface | undefined) ?? defaultSurface;
    sendError(res, surface, fromBodyParser(err) ?? toCligateError(err), log);
  };
}
