/**
 * Kiro over HTTP: token refresh on both paths (the Kiro auth service for social
 * logins, AWS SSO OIDC for Builder ID / IAM Identity Center), generateAssistantResponse
 * on the CodeWhisperer endpoint with the Amazon Q endpoint as fallback, and usage
 * limits. URLs are templates with {region}, configurable so tests can use a fake.
 */
import type { Response } from 'undici';
import { fetchVia, upstreamFailure } from '../../accounts/http.js';
import { Unauthorized, UpstreamError, type CligateError } from '../../core/errors.js';
import type { GenerateRequest, KiroAuthMethod, KiroCredentials } from './types.js';

export interface KiroEndpoints {
  socialRefresh: string;
  oidcToken: string;
  codewhisperer: string;
  amazonQ: string;
}

export const DEFAULT_ENDPOINTS: KiroEndpoints = {
  socialRefresh: 'https://prod.{region}.auth.desktop.kiro.dev/refreshToken',
  oidcToken: 'https://oidc.{region}.amazonaws.com/token',
  codewhisperer: 'https://codewhisperer.{region}.amazonaws.com',
  amazonQ: 'https://q.{region}.amazonaws.com',
};

export interface Token {
  accessToken: string;
  /** epoch ms */
  expiresAt: number;
  /** a rotated refresh token, when the service issued one */
  refreshToken?: string;
  profileArn?: string;
}

const at = (template: string, region: string) => template.replace('{region}', region);

export function authMethod(creds: KiroCredentials): KiroAuthMethod {
  const m = (creds.auth_method ?? '').toLowerCase().replace(/[_\s]/g, '-');
  if (m === 'idc' || m === 'iam-identity-center' || m === 'identity-center') return 'idc';
  if (m === 'builder-id' || m === 'builderid') return 'builder-id';
  if (!m && creds.client_id && creds.client_secret) return 'idc';
  return 'social';
}

const failure = (res: Response, what: string) => upstreamFailure(res, 'Kiro', what);

export async function refreshToken(ep: KiroEndpoints, creds: KiroCredentials, proxy: string | undefined, signal?: AbortSignal): Promise<Token> {
  const region = creds.region || 'us-east-1';
  const method = authMethod(creds);
  const social = method === 'social';
  if (!social && (!creds.client_id || !creds.client_secret)) {
    throw new Unauthorized(`Kiro ${method} accounts need client_id and client_secret.`, { code: 'account_incomplete' });
  }
  const url = social ? at(ep.socialRefresh, region) : at(ep.oidcToken, region);
  const body = social
    ? { refreshToken: creds.refresh_token }
    : { clientId: creds.client_id, clientSecret: creds.client_secret, grantType: 'refresh_token', refreshToken: creds.refresh_token };
  const res = await fetchVia(proxy, url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: signal ?? null });
  if (!res.ok) {
    const err = await failure(res, social ? 'refreshToken' : 'oidc token');
    // a refused refresh token is the account's credentials failing, whatever the status
    throw res.status === 400 ? new Unauthorized(err.message, { code: 'upstream_auth' }) : err;
  }
  const data = (await res.json()) as { accessToken?: string; access_token?: string; refreshToken?: string; refresh_token?: string; expiresIn?: number; expires_in?: number; profileArn?: string };
  const accessToken = data.accessToken ?? data.access_token;
  if (!accessToken) throw new Unauthorized('Kiro token refresh answered without an access token.', { code: 'upstream_auth' });
  const expiresIn = data.expiresIn ?? data.expires_in ?? 3600;
  const rotated = data.refreshToken ?? data.refresh_token;
  return {
    accessToken,
    expiresAt: Date.now() + expiresIn * 1000,
    ...(rotated && rotated !== creds.refresh_token ? { refreshToken: rotated } : {}),
    ...(data.profileArn ? { profileArn: data.profileArn } : {}),
  };
}

function headers(token: string): Record<string, string> {
  return {
    authorization: `Bearer ${token}`,
    'content-type': 'application/json',
    accept: 'application/vnd.amazon.eventstream, application/json',
    'x-amz-user-agent': 'aws-sdk-js/1.0.0 KiroIDE cligate',
    'user-agent': 'aws-sdk-js/1.0.0 cligate',
  };
}

/** the primary endpoint, then Amazon Q when the primary is down (5xx, 404, network); account errors do not switch */
export async function generate(
  ep: KiroEndpoints,
  region: string,
  token: string,
  body: GenerateRequest,
  proxy: string | undefined,
  signal: AbortSignal,
): Promise<{ res: Response; endpoint: 'codewhisperer' | 'amazonq' }> {
  const payload = JSON.stringify(body);
  let primaryError: CligateError | undefined;
  for (const endpoint of ['codewhisperer', 'amazonq'] as const) {
    const base = at(endpoint === 'codewhisperer' ? ep.codewhisperer : ep.amazonQ, region);
    let res: Response;
    try {
      res = await fetchVia(proxy, `${base}/generateAssistantResponse`, { method: 'POST', headers: headers(token), body: payload, signal });
    } catch (err) {
      if (signal.aborted) throw err;
      primaryError ??= new UpstreamError(`Kiro ${endpoint} unreachable: ${(err as Error).message}`);
      continue;
    }
    if (res.ok) return { res, endpoint };
    const err = await failure(res, `generateAssistantResponse (${endpoint})`);
    if (res.status >= 500 || res.status === 404) {
      primaryError ??= err;
      continue;
    }
    throw err;
  }
  throw primaryError ?? new UpstreamError('Kiro: no endpoint answered.');
}

export interface UsageLimits {
  resourceType?: string;
  currentUsage?: number;
  usageLimit?: number;
  nextDateReset?: string | number;
}

export async function usageLimits(ep: KiroEndpoints, region: string, token: string, profileArn: string | undefined, proxy: string | undefined): Promise<UsageLimits[]> {
  const q = new URLSearchParams({ origin: 'AI_EDITOR', resourceType: 'AGENTIC_REQUEST', ...(profileArn ? { profileArn } : {}) });
  const res = await fetchVia(proxy, `${at(ep.codewhisperer, region)}/getUsageLimits?${q}`, { headers: headers(token) });
  if (!res.ok) throw await failure(res, 'getUsageLimits');
  const data = (await res.json()) as { usageBreakdownList?: UsageLimits[]; limits?: UsageLimits[] };
  return (data.usageBreakdownList ?? data.limits ?? []).map((u) => ({
    resourceType: u.resourceType,
    currentUsage: u.currentUsage,
    usageLimit: u.usageLimit,
    nextDateReset: u.nextDateReset,
  }));
}
