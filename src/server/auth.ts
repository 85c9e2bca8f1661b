/** API-key check for the API routes (the master API_KEY and client keys), accepting each dialect's header. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiRequest, ApiResponse, Next } from './http-types.js';
import { Unauthorized } from '../core/errors.js';
import type { Caller, KeyRing } from '../keys/ring.js';
import { keyRefusal, type ClientKey } from '../keys/key.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** the key a client presented: Bearer, x-api-key (Anthropic) or x-goog-api-key / ?key= (Gemini) */
export function presentedKey(req: ApiRequest): string | undefined {
  const auth = req.headers.authorization;
  if (auth) {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    return m?.[1]?.trim();
  }
  const x = req.headers['x-api-key'] ?? req.headers['x-goog-api-key'];
  if (typeof x === 'string') return x.trim();
  const q = req.query.key;
  return typeof q === 'string' ? q : undefined;
}

export function keyMatches(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  // compare digests so neither the length nor the content leaks through timing
  return timingSafeEqual(digest(presented), digest(expected));
}

const MISSING = 'Missing API key: send "Authorization: Bearer <API_KEY>" (or the x-api-key / x-goog-api-key header).';

/** a key in the store that may not be used: 401 naming why */
function refused(key: ClientKey, why: 'revoked' | 'disabled' | 'expired'): Unauthorized {
  const text = {
    revoked: 'was revoked; ask for a new key',
    disabled: 'is disabled; ask the gateway admin to enable it',
    expired: `expired at ${new Date(key.expiresAt ?? 0).toISOString()}; ask for a new key or a later expiry`,
  }[why];
  return new Unauthorized(`This API key ('${key.name}') ${text}.`, { code: `api_key_${why}` });
}

/**
 * The API key check: API_KEY is the master key; client keys (src/keys) are checked by hash and
 * state. With neither an API_KEY nor any client key, the gateway is open. res.locals.caller says
 * who called (the request log, usage, limits and model scopes read it).
 * masterOnly: only API_KEY opens the route (when one is set), e.g. /metrics.
 */
export function requireApiKey(apiKey: string, ring?: KeyRing, opts: { masterOnly?: boolean } = {}) {
  const master: Caller = { kind: 'master' };
  return (req: ApiRequest, res: ApiResponse, next: Next): void => {
    const keys = ring?.any === true && !(opts.masterOnly && apiKey);
    if (!apiKey && !keys) return next();
    const presented = presentedKey(req);
    if (presented === undefined) return next(new Unauthorized(MISSING, { code: 'missing_api_key' }));
    if (apiKey && keyMatches(presented, apiKey)) {
      res.locals.caller = master;
      return next();
    }
    const key = keys ? ring!.find(presented) : undefined;
    if (!key) return next(new Unauthorized('Invalid API key.', { code: 'invalid_api_key' }));
    const why = keyRefusal(key);
    if (why) return next(refused(key, why));
    ring!.touch(key);
    res.locals.caller = { kind: 'key', key } satisfies Caller;
    next();
  };
}

/** the name usage and logs carry for the caller: a client key's name, "master" for API_KEY */
export function callerName(caller: Caller | undefined): string | undefined {
  return caller === undefined ? undefined : caller.kind === 'master' ? 'master' : caller.key.name;
}
