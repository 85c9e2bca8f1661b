/**
 * Client keys' limits on the chat routes: a request by a limited key is admitted (or refused
 * with a 429 in its dialect) before its body is read, its slot is freed when the response
 * closes, and its tokens are counted against the key's day then.
 */
import type { ApiRequest, ApiResponse, Next } from './http-types.js';
import type { Caller } from '../keys/ring.js';
import type { KeyLimiter } from '../keys/limits.js';
import type { RequestEnd } from './request-log.js';
import type { Usage } from '../core/stream.js';
import { CligateError } from '../core/errors.js';

export function keyLimits(limiter: KeyLimiter, onRefused?: (key: string, code: string) => void) {
  return (_req: ApiRequest, res: ApiResponse, next: Next): void => {
    const caller = res.locals.caller as Caller | undefined;
    if (caller?.kind !== 'key') return next();
    const { limits } = caller.key;
    if (limits.requestsPerMinute === undefined && limits.tokensPerDay === undefined && limits.concurrent === undefined) return next();
    limiter.admit(caller.key, String(res.locals.requestId)).then(
      (admission) => {
        // the response may already be gone (the client left while shared state answered)
        if (res.destroyed) return admission.release();
        res.once('close', admission.release);
        const r = admission.requests;
        if (r && !res.headersSent) {
          res.setHeader('x-ratelimit-limit-requests', String(r.limit));
          res.setHeader('x-ratelimit-remaining-requests', String(r.remaining));
          res.setHeader('x-ratelimit-reset-requests', `${r.resetSeconds}s`);
        }
        next();
      },
      (err: unknown) => {
        if (err instanceof CligateError && err.status === 429) onRefused?.(caller.key.name, err.code);
        next(err);
      },
    );
  };
}

/** when a key's request ends: its tokens count against the key's day (every key: a limit set later sees today's use) */
export function keyTokens(limiter: KeyLimiter): RequestEnd {
  return (_req, res) => {
    const caller = res.locals.caller as Caller | undefined;
    const usage = res.locals.usage as Usage | undefined;
    if (caller?.kind !== 'key' || !usage) return;
    void limiter.addTokens(caller.key, (usage.inputTokens ?? 0) + (usage.outputTokens ?? 0)).catch(() => {});
  };
}
