/**
 * Outbound HTTP for API providers through undici: direct, or through the account's
 * proxy, else the store's global proxy, else UPSTREAM_PROXY. One dispatcher per proxy URL, reused.
 *
 * Proxies: http:// and https:// (undici's ProxyAgent: CONNECT tunnels), socks5:// socks5h://
 * socks4:// socks4a:// socks:// (fetch-socks over the `socks` client; host names are handed to
 * the proxy to resolve, as curl's socks5h / socks4a do).
 */
import { Agent, ProxyAgent, fetch, type Dispatcher, type RequestInit, type Response } from 'undici';
import { socksDispatcher } from 'fetch-socks';
import { BadRequest, RateLimited, Unauthorized, UpstreamError, type CligateError } from '../core/errors.js';
import { dispatchRequest, type DispatchOptions, type UpstreamResponse } from './dispatch-response.js';

const direct = new Agent({ keepAliveTimeout: 30_000 });
const proxies = new Map<string, Dispatcher>();

/** the proxy URL schemes cligate can send requests through */
export const PROXY_SCHEMES = ['http', 'https', 'socks', 'socks4', 'socks4a', 'socks5', 'socks5h'] as const;
const PROXY_URL = new RegExp(`^(${PROXY_SCHEMES.join('|')})://`, 'i');

export function isProxyUrl(url: string): boolean {
  if (!PROXY_URL.test(url)) return false;
  try {
    return Boolean(new URL(url).hostname);
  } catch {
    return false;
  }
}

/**
 * A new dispatcher for one proxy URL (the caller owns and closes it). A URL of another
 * scheme is an error that names the ones cligate speaks.
 */
export function proxyDispatcher(proxy: string): Dispatcher {
  if (!isProxyUrl(proxy)) throw new Error(`"${proxy.replace(/\/\/[^@/]*@/, '//****@')}" is not a proxy URL cligate can use (${PROXY_SCHEMES.map((s) => `${s}://`).join(', ')}).`);
  const u = new URL(proxy);
  const scheme = u.protocol.slice(0, -1).toLowerCase();
  if (scheme === 'http' || scheme === 'https') return new ProxyAgent(proxy);
  const port = Number(u.port) || 1080;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const user = u.username ? decodeURIComponent(u.username) : undefined;
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  const type = scheme.startsWith('socks4') ? 4 : 5;
  return socksDispatcher(
    type === 4 ? { type, host, port, ...(user ? { userId: user } : {}) } : { type, host, port, ...(user ? { userId: user } : {}), ...(password ? { password } : {}) },
    { keepAliveTimeout: 30_000 },
  );
}

export function dispatcherFor(proxy: string | undefined): Dispatcher {
  if (!proxy) return direct;
  let agent = proxies.get(proxy);
  if (!agent) {
    agent = proxyDispatcher(proxy);
    proxies.set(proxy, agent);
  }
  return agent;
}

export function fetchVia(proxy: string | undefined, url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, dispatcher: dispatcherFor(proxy) });
}

/**
 * One call for hot paths (dispatch-response.ts): no WHATWG Request/Response objects and no
 * Node stream, the body as the chunks arrive. A URL object made once is not parsed again per
 * call (a string is).
 */
export function requestVia(proxy: string | undefined, url: string | URL, opts: DispatchOptions): Promise<UpstreamResponse> {
  return dispatchRequest(dispatcherFor(proxy), url, opts);
}

export async function closeDispatchers(): Promise<void> {
  await Promise.allSettled([...proxies.values()].map((p) => p.close()));
  proxies.clear();
}

/**
 * An upstream's HTTP failure as the pool reads it: 401/403 the account's credentials,
 * 429 a rate limit (with its retry-after), 400 the request itself, anything else the upstream.
 */
export async function upstreamFailure(res: Response | UpstreamResponse, service: string, what: string): Promise<CligateError> {
  const fromFetch = 'status' in res;
  const status = fromFetch ? res.status : res.statusCode;
  const text = fromFetch ? await res.text().catch(() => '') : await res.body.text().catch(() => '');
  const body = text.slice(0, 300).replace(/\s+/g, ' ');
  const detail = `${what}: HTTP ${status}${body ? ` ${body}` : ''}`;
  if (status === 401 || status === 403) return new Unauthorized(`${service} rejected the account's credentials (${detail}).`, { code: 'upstream_auth' });
  if (status === 429) {
    const retry = fromFetch ? res.headers.get('retry-after') : res.headers['retry-after'];
    const after = Number(Array.isArray(retry) ? retry[0] : retry);
    return new RateLimited(`${service} rate limit (${detail}).`, Number.isFinite(after) && after > 0 ? { retryAfter: after } : {});
  }
  if (status === 400) return new BadRequest(`${service} refused the request (${detail}).`, { code: 'upstream_rejected_request' });
  return new UpstreamError(`${service} failed (${detail}).`);
}
