/** API-key check for the API routes: constant-time, accepting each dialect's header. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiRequest, ApiResponse, Next } from './http-types.js';
import { Unauthorized } from '../core/errors.js';

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

export function requireApiKey(apiKey: string) {
  const expected = apiKey;
  return (req: ApiRequest, _res: ApiResponse, next: Next): void => {
    if (!expected) return next();
    const key = presentedKey(req);
    if (key === undefined) return next(new Unauthorized('Missing API key: send "Authorization: Bearer <API_KEY>" (or the x-api-key / x-goog-api-key header).', { code: 'missing_api_key' }));
    if (!keyMatches(key, expected)) return next(new Unauthorized('Invalid API key.', { code: 'invalid_api_key' }));
    next();
  };
}
