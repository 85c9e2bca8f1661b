/**
 * What the API's handlers use of a request and a response: node's own objects plus the
 * few fields express also sets. Express's Request/Response are supersets, so one handler
 * serves an express route and a hot route (src/server/hot-routes.ts) alike.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import proxyaddr from 'proxy-addr';

export interface ApiRequest extends IncomingMessage {
  body?: unknown;
  params: Record<string, string | string[]>;
  query: Record<string, unknown>;
  /** the URL as received (express keeps it while its routers trim `url`) */
  originalUrl?: string;
  /** the client's address through trusted proxies (rate limits key on it) */
  ip?: string | undefined;
}

export interface ApiResponse extends ServerResponse {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- express's own type for it
  locals: Record<string, any>;
}

export type Next = (err?: unknown) => void;
export type ApiHandler = (req: ApiRequest, res: ApiResponse, next: Next) => unknown;

/** proxies whose X-Forwarded-* headers are believed: a reverse proxy on this machine */
export const TRUST_PROXY = 'loopback';
const trusted = proxyaddr.compile(TRUST_PROXY);

/** the client's address, as express's req.ip gives it with TRUST_PROXY */
export function clientIp(req: IncomingMessage): string {
  return proxyaddr(req, trusted);
}

/** scheme://host the client used, for links back to this server (as express's req.protocol + Host) */
export function publicOrigin(req: IncomingMessage): string {
  let proto = (req.socket as TLSSocket).encrypted ? 'https' : 'http';
  const forwarded = req.headers['x-forwarded-proto'];
  if (typeof forwarded === 'string' && forwarded && trusted(req.socket.remoteAddress ?? '', 0)) proto = forwarded.split(',')[0]!.trim();
  return `${proto}://${req.headers.host ?? 'localhost'}`;
}
