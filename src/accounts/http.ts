/**
 * Outbound HTTP for API providers through undici: direct, or through the account's
 * proxy, else the store's global proxy. One dispatcher per proxy URL, reused.
 */
import { Agent, ProxyAgent, fetch, type Dispatcher, type RequestInit, type Response } from 'undici';
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

export async function closeDispatchers(): Promise<void> {
  await Promise.allSettled([...proxies.values()].map((p) => p.close()));
  proxies.clear();
}

/**
 * An upstream's HTTP failure as the pool reads it: 401/403 the account's credentials,
 * 429 a rate limit (with its retry-after), 400 the request itself, anything else the upstream.
 */
export async function upstreamFailure(res: Response, service: string, what: string): Promise<CligateError> {
  const body = (await res.text().catch(() => '')).slice(0, 300).replace(/\s+/g, ' ');
  const detail = `${what}: HTTP ${res.status}${body ? ` ${body}` : ''}`;
  if (res.status === 401 || res.status === 403) return new Unauthorized(`${service} rejected the account's credentials (${detail}).`, { code: 'upstream_auth' });
  if (res.status === 429) {
    const after = Number(res.headers.get('retry-after'));
    return new RateLimited(`${service} rate limit (${detail}).`, Number.isFinite(after) && after > 0 ? { retryAfter: after } : {});
  }
  if (res.status === 400) return new BadRequest(`${service} refused the request (${detail}).`, { code: 'upstream_rejected_request' });
  return new UpstreamError(`${service} failed (${detail}).`);
}
