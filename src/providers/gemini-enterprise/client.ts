/**
 * Gemini Enterprise's widget API over HTTP: the XSRF key from /auth/getoxsrf (cookies),
 * chat sessions, widgetStreamAssist, and the files an answer generated. Endpoints are
 * configurable so tests can point them at a fake.
 */
import type { Response } from 'undici';
import { fetchVia, upstreamFailure } from '../../accounts/http.js';
import { Unauthorized, UpstreamError } from '../../core/errors.js';
import type { EnterpriseCredentials, QueryPart } from './types.js';
import { createJwt, signingKey } from './jwt.js';

export interface Endpoints {
  /** https://business.gemini.google (getoxsrf) */
  auth: string;
  /** https://biz-discoveryengine.googleapis.com (widget API and file downloads) */
  api: string;
}

const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

function headers(jwt: string, creds: EnterpriseCredentials): Record<string, string> {
  return {
    accept: '*/*',
    authorization: `Bearer ${jwt}`,
    'content-type': 'application/json',
    origin: 'https://business.gemini.google',
    referer: 'https://business.gemini.google/',
    'user-agent': creds.user_agent || BROWSER_UA,
    'x-server-timeout': '1800',
  };
}

const upstreamError = (res: Response, what: string) => upstreamFailure(res, 'Gemini Enterprise', what);

/** a fresh JWT: the signing key from getoxsrf with the account's cookies, signed here */
export async function fetchJwt(ep: Endpoints, creds: EnterpriseCredentials, proxy: string | undefined, signal?: AbortSignal): Promise<string> {
  const cookie = [`__Secure-C_SES=${creds.secure_c_ses}`, creds.host_c_oses ? `__Host-C_OSES=${creds.host_c_oses}` : ''].filter(Boolean).join('; ');
  const url = `${ep.auth}/auth/getoxsrf?csesidx=${encodeURIComponent(creds.csesidx)}`;
  const res = await fetchVia(proxy, url, { headers: { accept: '*/*', cookie, 'user-agent': creds.user_agent || BROWSER_UA }, signal: signal ?? null });
  if (!res.ok) throw await upstreamError(res, 'getoxsrf');
  // Google's anti-JSON-hijacking prefix
  const text = (await res.text()).replace(/^\)\]\}'\s*/, '');
  let data: { keyId?: string; xsrfToken?: string };
  try {
    data = JSON.parse(text) as typeof data;
  } catch {
    throw new Unauthorized('Gemini Enterprise getoxsrf did not answer with a key (the cookies are probably expired).', { code: 'upstream_auth' });
  }
  if (!data.keyId || !data.xsrfToken) throw new Unauthorized('Gemini Enterprise getoxsrf answered without keyId/xsrfToken (the cookies are probably expired).', { code: 'upstream_auth' });
  return createJwt({ key: signingKey(data.xsrfToken), keyId: data.keyId, csesidx: creds.csesidx });
}

function widget(ep: Endpoints, method: string): string {
  return `${ep.api}/v1alpha/locations/global/${method}`;
}

export async function createSession(ep: Endpoints, jwt: string, creds: EnterpriseCredentials, proxy: string | undefined, name: string, signal?: AbortSignal): Promise<string> {
  const res = await fetchVia(proxy, widget(ep, 'widgetCreateSession'), {
    method: 'POST',
    headers: headers(jwt, creds),
    body: JSON.stringify({ configId: creds.team_id, additionalParams: { token: '-' }, createSessionRequest: { session: { name, displayName: name } } }),
    signal: signal ?? null,
  });
  if (!res.ok) throw await upstreamError(res, 'widgetCreateSession');
  const data = (await res.json()) as { session?: { name?: string } };
  if (!data.session?.name) throw new UpstreamError('Gemini Enterprise created a session without a name.');
  return data.session.name;
}

export function streamAssistBody(creds: EnterpriseCredentials, session: string, parts: QueryPart[], toolsSpec: Record<string, unknown>): string {
  return JSON.stringify({
    configId: creds.team_id,
    additionalParams: { token: '-' },
    streamAssistRequest: {
      session,
      query: { parts },
      filter: '',
      fileIds: [],
      answerGenerationMode: 'NORMAL',
      toolsSpec,
      languageCode: 'en-US',
      userMetadata: { timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC' },
      assistSkippingMode: 'REQUEST_ASSIST',
    },
  });
}

export async function streamAssist(ep: Endpoints, jwt: string, creds: EnterpriseCredentials, proxy: string | undefined, body: string, signal: AbortSignal): Promise<Response> {
  const res = await fetchVia(proxy, widget(ep, 'widgetStreamAssist'), { method: 'POST', headers: headers(jwt, creds), body, signal });
  if (!res.ok) throw await upstreamError(res, 'widgetStreamAssist');
  return res;
}

/** the session an AI-generated file lives in (from the session's file list), if listed */
export async function fileSession(ep: Endpoints, jwt: string, creds: EnterpriseCredentials, proxy: string | undefined, session: string, fileId: string, signal?: AbortSignal): Promise<string> {
  const res = await fetchVia(proxy, widget(ep, 'widgetListSessionFileMetadata'), {
    method: 'POST',
    headers: headers(jwt, creds),
    body: JSON.stringify({ configId: creds.team_id, additionalParams: { token: '-' }, listSessionFileMetadataRequest: { name: session, filter: 'file_origin_type = AI_GENERATED' } }),
    signal: signal ?? null,
  });
  if (!res.ok) return session;
  const data = (await res.json().catch(() => ({}))) as { listSessionFileMetadataResponse?: { fileMetadata?: { fileId?: string; session?: string }[] } };
  return data.listSessionFileMetadataResponse?.fileMetadata?.find((m) => m.fileId === fileId)?.session ?? session;
}

/** a generated file's bytes (the API sometimes answers with the base64 text of the image) */
export async function downloadFile(ep: Endpoints, jwt: string, creds: EnterpriseCredentials, proxy: string | undefined, session: string, fileId: string, signal?: AbortSignal): Promise<Buffer> {
  const url = `${ep.api}/v1alpha/${session}:downloadFile?fileId=${encodeURIComponent(fileId)}&alt=media`;
  const res = await fetchVia(proxy, url, { headers: headers(jwt, creds), redirect: 'follow', signal: signal ?? null });
  if (!res.ok) throw await upstreamError(res, 'downloadFile');
  const bytes = Buffer.from(await res.arrayBuffer());
  const head = bytes.subarray(0, 16).toString('latin1');
  if (head.startsWith('iVBORw0KGgo') || head.startsWith('/9j/') || head.startsWith('R0lGOD') || head.startsWith('UklGR')) {
    return Buffer.from(bytes.toString('latin1').trim(), 'base64');
  }
  return bytes;
}
