/**
 * Outbound HTTP for API providers through undici: direct, or through the account's
 * proxy, else the store's global proxy. One dispatcher per proxy URL, reused.
 */
import { Agent, ProxyAgent, fetch, type Dispatcher, type RequestInit, type Response } from 'undici';

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
