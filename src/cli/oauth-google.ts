/**
 * Google OAuth for adding Cloud Code accounts: an authorization URL with PKCE, a local
 * callback server for the browser flow, parsing a pasted redirect URL for the manual
 * flow (headless servers), and the code exchange.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const SCOPES = ['https://www.googleapis.com/auth/cloud-platform', 'https://www.googleapis.com/auth/userinfo.email', 'https://www.googleapis.com/auth/userinfo.profile'];

export interface AuthRequest {
  url: string;
  state: string;
  verifier: string;
  redirectUri: string;
}

export function authorizationUrl(authUrl: string, clientId: string, redirectUri: string): AuthRequest {
  const verifier = randomBytes(48).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const state = randomBytes(16).toString('hex');
  const q = new URLSearchParams({
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: SCOPES.join(' '),
    access_type: 'offline',
    prompt: 'consent',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
  });
  return { url: `${authUrl}?${q}`, state, verifier, redirectUri };
}

/** the code from a pasted redirect URL (or a bare code), checking the state when there is one */
export function codeFromPaste(pasted: string, state: string): string {
  const text = pasted.trim();
  if (!/^https?:\/\//.test(text)) {
    if (!text) throw new Error('nothing was pasted');
    return text;
  }
  const u = new URL(text);
  const err = u.searchParams.get('error');
  if (err) throw new Error(`Google answered: ${err}`);
  const code = u.searchParams.get('code');
  if (!code) throw new Error('the pasted URL has no ?code=');
  if (u.searchParams.get('state') !== state) throw new Error('the pasted URL belongs to another sign-in (state does not match)');
  return code;
}

/** listens on 127.0.0.1:port for the redirect; resolves with the code */
export async function callbackServer(port: number, state: () => string): Promise<{ port: number; code: Promise<string>; close(): void }> {
  let resolve!: (c: string) => void;
  let reject!: (e: Error) => void;
  const code = new Promise<string>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://localhost');
    if (u.pathname !== '/oauth-callback') return void res.writeHead(404).end();
    try {
      const c = codeFromPaste(`http://localhost${req.url}`, state());
      res.writeHead(200, { 'content-type': 'text/plain' }).end('Signed in. You can close this tab and return to the terminal.');
      resolve(c);
    } catch (err) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`Sign-in failed: ${(err as Error).message}`);
      reject(err as Error);
    }
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    code,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

export async function exchangeCode(
  tokenUrl: string,
  client: { clientId: string; clientSecret: string },
  code: string,
  verifier: string,
  redirectUri: string,
): Promise<{ refreshToken: string; accessToken: string }> {
  const body = new URLSearchParams({ code, client_id: client.clientId, client_secret: client.clientSecret, redirect_uri: redirectUri, grant_type: 'authorization_code', code_verifier: verifier });
  const res = await fetch(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  const data = (await res.json().catch(() => ({}))) as { refresh_token?: string; access_token?: string; error?: string; error_description?: string };
  if (!res.ok || !data.refresh_token || !data.access_token) {
    throw new Error(`the code exchange failed (HTTP ${res.status} ${data.error ?? ''} ${data.error_description ?? ''})`.trim());
  }
  return { refreshToken: data.refresh_token, accessToken: data.access_token };
}
