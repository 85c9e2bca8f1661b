/**
 * Turns a CLI's failure (an upstream HTTP status it reports, or the text it prints)
 * into a typed error: auth failure 401, rate limit 429, anything else 502, always
 * carrying the CLI's own words.
 */
import { CligateError, RateLimited, Unauthorized, UpstreamError } from '../core/errors.js';

const AUTH = /\b(401|403)\b|unauthori[sz]ed|invalid (x-)?api[ -]?key|authentication|not logged in|please run \/login|log ?in again|oauth token|credentials? (are|is) (missing|invalid|expired)/i;
const RATE = /\b429\b|rate[ -]?limit|usage limit|quota|too many requests|overloaded/i;

export function classifyCliFailure(cli: string, message: string, upstreamStatus?: number | null): CligateError {
  const text = message.trim().slice(0, 2000) || `${cli} failed without a message`;
  const hint = `${cli}: ${text}`;
  if (upstreamStatus === 401 || upstreamStatus === 403 || (!upstreamStatus && AUTH.test(text)))
    return new Unauthorized(`${hint} (check that ${cli} is logged in on the server)`, { code: 'cli_auth_failed' });
  if (upstreamStatus === 429 || upstreamStatus === 529 || (!upstreamStatus && RATE.test(text)))
    return new RateLimited(hint, { code: 'cli_rate_limited', retryAfter: 60 });
  return new UpstreamError(hint, { code: 'cli_error' });
}
