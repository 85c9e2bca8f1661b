/**
 * The API's POST endpoints (chat and token counting) served on node's own request and
 * response objects. Express sets up every request it routes (it swaps the prototypes of
 * req and res, which also slows node's own code on them afterwards, parses the URL and
 * walks the router): about 165 µs per request on the bench machine, the largest single
 * cost on the relay path (bench/passthrough). These routes are few and fixed, so a table
 * finds them; everything else (and anything they do not recognise) goes to express. The
 * handlers are the same kind of functions the express routes use (see http-types.ts):
 * request log, CORS, API key, rate limit, body parser, chat handler, error handler.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { NotFound } from '../core/errors.js';
import { clientIp, type ApiHandler, type ApiRequest, type ApiResponse, type Next } from './http-types.js';

export interface HotMatch {
  handlers: readonly ApiHandler[];
  params?: Record<string, string>;
}

export interface HotRoutes {
  /**
   * POST path (lower case, no trailing slash, no query; `rawPath` as sent) -> the whole
   * handler chain, or undefined (express then answers, 404s included)
   */
  find(path: string, rawPath: string): HotMatch | undefined;
  /** the app's last-resort error handler */
  onError(err: unknown, req: ApiRequest, res: ApiResponse): void;
  /** set req.ip (rate limits key on it) */
  needsIp: boolean;
}

/** runs handlers in turn, express-style: next() goes on, next(err) stops; a rejected promise is an error */
function runChain(handlers: readonly ApiHandler[], req: ApiRequest, res: ApiResponse, done: Next): void {
  let i = 0;
  const step: Next = (err) => {
    if (err !== undefined && err !== null) return done(err);
    const h = handlers[i++];
    if (!h) return done();
    try {
      const r = h(req, res, step) as Promise<unknown> | undefined;
      if (r && typeof r.then === 'function') r.then(undefined, (e: unknown) => step(e ?? new Error('handler rejected')));
    } catch (e) {
      step(e);
    }
  };
  step();
}

/** a request listener: hot routes here, anything else to `fallback` (the express app) */
export function withHotRoutes(hot: HotRoutes, fallback: (req: IncomingMessage, res: ServerResponse) => void) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'POST') return fallback(req, res);
    let url = req.url ?? '/';
    // absolute-form ("POST http://host/v1/..."), as a forward proxy sends it: its path and query
    if (url[0] !== '/') {
      try {
        const abs = new URL(url);
        url = abs.pathname + abs.search;
      } catch {
        return fallback(req, res);
      }
    }
    const q = url.indexOf('?');
    let rawPath = q === -1 ? url : url.slice(0, q);
    // express matches case-insensitively and with or without one trailing slash
    if (rawPath.length > 1 && rawPath.endsWith('/')) rawPath = rawPath.slice(0, -1);
    const found = hot.find(rawPath.toLowerCase(), rawPath);
    if (!found) return fallback(req, res);

    const areq = req as ApiRequest;
    const ares = res as ApiResponse;
    areq.originalUrl = req.url ?? url;
    areq.params = found.params ?? {};
    // express's 'simple' query parser is node's querystring
    areq.query = q === -1 ? {} : (parseQuery(url.slice(q + 1)) as Record<string, unknown>);
    if (hot.needsIp) areq.ip = clientIp(req);
    ares.locals = {};
    const fail = (err: unknown) => hot.onError(err, areq, ares);
    runChain(found.handlers, areq, ares, (err) => {
      if (err !== undefined) return fail(err);
      // a chain that ends without answering: nothing on this route took the request
      if (!res.headersSent && !res.writableEnded) fail(new NotFound(`Unknown endpoint: POST ${rawPath}`, { code: 'unknown_url' }));
    });
  };
}
