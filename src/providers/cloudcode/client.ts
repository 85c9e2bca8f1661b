/**
 * Cloud Code (v1internal) over HTTP: Google OAuth token refresh, project discovery
 * (loadCodeAssist, onboardUser when the account has no project yet), streamGenerateContent
 * with endpoint fallback, and the per-model quota (fetchAvailableModels).
 */
import type { Response } from 'undici';
import { fetchVia, upstreamFailure } from '../../accounts/http.js';
import { RateLimited, Unauthorized, UpstreamError, type CligateError } from '../../core/errors.js';

export interface CloudCodeEndpoints {
  /** https://oauth2.googleapis.com/token */
  token: string;
  /** API roots in fallback order */
  api: string[];
}

export interface OAuthClient {
  clientId: string;
  clientSecret: string;
}

const CLIENT_METADATA = { ideType: 'IDE_UNSPECIFIED', platform: 'PLATFORM_UNSPECIFIED', pluginType: 'GEMINI' };

function headers(token: string): Record<string, string> {
  return {
    authorization: `Bearer ${token}`,
    'content-type': 'application/json',
    'user-agent': 'antigravity/1.0 cligate',
    'x-goog-api-client': 'google-cloud-sdk vscode_cloudshelleditor/0.1',
    'client-metadata': JSON.stringify(CLIENT_METADATA),
  };
}

/** "12.5s" / "1h2m3s" -> seconds */
export function parseDelay(s: unknown): number | undefined {
  if (typeof s !== 'string') return undefined;
  let total = 0;
  let matched = false;
  for (const [, n, unit] of s.matchAll(/([\d.]+)(ms|h|m|s)/g)) {
    matched = true;
    total += Number(n) * (unit === 'h' ? 3600 : unit === 'm' ? 60 : unit === 'ms' ? 0.001 : 1);
  }
  return matched ? total : undefined;
}

/** a 429 RESOURCE_EXHAUSTED carries its retry delay in error.details; the rest is the common mapping */
async function failure(res: Response, what: string): Promise<CligateError> {
  if (res.status !== 429) return upstreamFailure(res, 'Cloud Code', what);
  const text = await res.text().catch(() => '');
  let delay: number | undefined;
  try {
    const details = (JSON.parse(text) as { error?: { details?: Record<string, unknown>[] } }).error?.details ?? [];
    for (const d of details) {
      delay ??= parseDelay(d.retryDelay) ?? parseDelay((d.metadata as Record<string, unknown> | undefined)?.quotaResetDelay);
    }
  } catch {
    // not JSON: no delay to read
  }
  delay ??= Number(res.headers.get('retry-after')) || undefined;
  return new RateLimited(`Cloud Code quota exhausted (${what}: ${text.slice(0, 200).replace(/\s+/g, ' ')}).`, delay ? { retryAfter: Math.ceil(delay) } : {});
}

export async function refreshAccessToken(tokenUrl: string, client: OAuthClient, refreshToken: string, proxy: string | undefined): Promise<{ accessToken: string; expiresAt: number }> {
  const body = new URLSearchParams({ client_id: client.clientId, client_secret: client.clientSecret, refresh_token: refreshToken, grant_type: 'refresh_token' });
  const res = await fetchVia(proxy, tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
  if (!res.ok) {
    const text = (await res.text().catch(() => '')).slice(0, 200);
    // invalid_grant and friends: the refresh token is dead
    if (res.status === 400 || res.status === 401) throw new Unauthorized(`Google refused the refresh token (HTTP ${res.status} ${text}).`, { code: 'upstream_auth' });
    throw new UpstreamError(`Google token endpoint failed (HTTP ${res.status} ${text}).`);
  }
  const data = (await res.json()) as { access_token?: string; expires_in?: number };
  if (!data.access_token) throw new Unauthorized('Google token endpoint answered without an access token.', { code: 'upstream_auth' });
  return { accessToken: data.access_token, expiresAt: Date.now() + (data.expires_in ?? 3600) * 1000 };
}

/** POSTs to each API root in turn until one answers something other than 5xx/404/network */
export async function postWithFallback(ep: CloudCodeEndpoints, method: string, token: string, body: unknown, proxy: string | undefined, signal?: AbortSignal, query = ''): Promise<{ res: Response; root: string }> {
  let last: CligateError | undefined;
  for (const root of ep.api) {
    let res: Response;
    try {
      res = await fetchVia(proxy, `${root}/v1internal:${method}${query}`, { method: 'POST', headers: headers(token), body: JSON.stringify(body), signal: signal ?? null });
    } catch (err) {
      if (signal?.aborted) throw err;
      last = new UpstreamError(`Cloud Code ${root} unreachable: ${(err as Error).message}`);
      continue;
    }
    if (res.ok) return { res, root };
    const err = await failure(res, `${method} at ${root}`);
    if (res.status >= 500 || res.status === 404) {
      last = err;
      continue;
    }
    throw err;
  }
  throw last ?? new UpstreamError('Cloud Code: no endpoint configured.');
}

/** the account's Cloud Code project: loadCodeAssist, else onboardUser on its default tier */
export async function discoverProject(ep: CloudCodeEndpoints, token: string, proxy: string | undefined): Promise<string> {
  const { res } = await postWithFallback(ep, 'loadCodeAssist', token, { metadata: CLIENT_METADATA }, proxy);
  const data = (await res.json()) as { cloudaicompanionProject?: string | { id?: string }; allowedTiers?: { id: string; isDefault?: boolean }[]; currentTier?: { id: string } };
  const known = typeof data.cloudaicompanionProject === 'string' ? data.cloudaicompanionProject : data.cloudaicompanionProject?.id;
  if (known) return known;
  const tier = data.currentTier?.id ?? data.allowedTiers?.find((t) => t.isDefault)?.id ?? data.allowedTiers?.[0]?.id ?? 'free-tier';
  for (let i = 0; i < 10; i++) {
    const { res: r } = await postWithFallback(ep, 'onboardUser', token, { tierId: tier, metadata: CLIENT_METADATA }, proxy);
    const op = (await r.json()) as { done?: boolean; response?: { cloudaicompanionProject?: { id?: string } } };
    const id = op.response?.cloudaicompanionProject?.id;
    if (op.done && id) return id;
    await new Promise((resolve) => setTimeout(resolve, 500 * (i + 1)));
  }
  throw new UpstreamError('Cloud Code onboarding did not finish; try again later.');
}

export interface ModelQuota {
  model: string;
  remainingFraction?: number;
  resetTime?: string;
}

export async function fetchQuota(ep: CloudCodeEndpoints, token: string, project: string, proxy: string | undefined): Promise<ModelQuota[]> {
  const { res } = await postWithFallback(ep, 'fetchAvailableModels', token, { project }, proxy);
  const data = (await res.json()) as { models?: Record<string, { quotaInfo?: { remainingFraction?: number; resetTime?: string } }> };
  return Object.entries(data.models ?? {}).map(([model, m]) => ({ model, remainingFraction: m.quotaInfo?.remainingFraction, resetTime: m.quotaInfo?.resetTime }));
}
