/**
 * Outbound HTTP for API providers through undici: direct, or through the account's
 * proxy, else the store's global proxy. One dispatcher per proxy URL, reused.
 */
import { Agent, ProxyAgent, fetch, request, type Dispatcher, type RequestInit, type Response } from 'undici';
import { BadRequest, RateLimited, Unauthorized, UpstreamError, type CligateError } from '../core/errors.js';

const direct = new Agent({ keepAliveTimeout: 30_000 });
const proxies = new Map<string, ProxyAgent>();

export function dispatcherFor(proxy: string | undefined): Dispatcher {
  if (!proxy) return direct;
  let agent = proxies.get(proxy);
  if (!agent) {
    agent = new ProxyAgent(proxy);
    proxies.set(proxy, agent);
  }
  return agent;
}

export function fetchVia(proxy: string | undefined, url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, dispatcher: dispatcherFor(proxy) });
}

/**
 * undici's request() for hot paths: no WHATWG Request/Response/stream objects, the body
 * as a Node stream. Several times cheaper per call than fetch.
 */
export function requestVia(proxy: string | undefined, url: string, opts: { method: 'POST' | 'GET'; headers: Record<string, string>; body?: string; signal?: AbortSignal }): Promise<Dispatcher.ResponseData> {
  return request(url, { ...opts, dispatcher: dispatcherFor(proxy) });
}

export async function closeDispatchers(): Promise<void> {
  await Promise.allSettled([...proxies.values()].map((p) => p.close()));
  proxies.clear();
}

/**
 * An upstream's HTTP failure as the pool reads it: 401/403 the account's credentials,
 * 429 a rate limit (with its retry-after), 400 the request itself, anything else the upstream.
 */
export async function upstreamFailure(res: Response | Dispatcher.ResponseData, service: string, what: string): Promise<CligateError> {
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
