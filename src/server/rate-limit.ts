/** Per-endpoint rate limits (express-rate-limit), answered in the route's dialect. */
import { rateLimit, type RateLimitRequestHandler, type Store } from 'express-rate-limit';
import type { Request } from 'express';
import { RateLimited } from '../core/errors.js';

/** `store`: counters shared by every instance (Redis, per instance while it is away); default: this process's memory. Off (RATE_LIMIT_ENABLED) = no limiter in the route at all (app.ts). */
export function perMinute(limit: number, what: string, store?: Store): RateLimitRequestHandler {
  return rateLimit({
    // the shared store never fails: while Redis is away it counts in this process (ResilientState)
    ...(store ? { store } : {}),
    windowMs: 60_000,
    limit,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    // these two read express's app settings, which requests on the hot routes do not carry;
    // trust proxy is fixed (TRUST_PROXY) and req.ip is set the same way on both paths
    validate: { trustProxy: false, xForwardedForHeader: false },
    handler: (_req, res, next, options) => {
      const resetTime = (res.req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
      const retryAfter = Math.max(1, Math.ceil(((resetTime?.getTime() ?? Date.now() + options.windowMs) - Date.now()) / 1000));
      next(
        new RateLimited(`Too many ${what} requests: the limit is ${limit} per minute. Retry after ${retryAfter}s.`, {
          code: 'too_many_requests',
          retryAfter,
        }),
      );
    },
  });
}
