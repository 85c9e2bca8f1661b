/**
 * POST /api/proxy/test: fetches PROXY_TEST_URL (or a given URL) through the configured
 * outbound proxy (the store's, else UPSTREAM_PROXY; or a given one: http(s), socks5(h),
 * socks4(a)) and reports status and time, so a proxy can be checked before accounts depend on it.
 */
import express from 'express';
import { z } from 'zod';
import { fetch } from 'undici';
import { PROXY_SCHEMES, isProxyUrl, proxyDispatcher } from '../accounts/http.js';
import { BadRequest } from '../core/errors.js';
import { maskProxy } from '../accounts/mask.js';
import { parse } from './validate.js';
import type { AdminDeps } from './deps.js';

const schema = z.strictObject({
  proxy: z.string().refine(isProxyUrl, `a proxy URL (${PROXY_SCHEMES.map((s) => `${s}://`).join(', ')})`).optional(),
  url: z.string().url().refine((u) => /^https?:/.test(u), 'an http(s) URL').optional(),
  timeoutMs: z.number().int().min(100).max(60_000).default(10_000),
});

export function proxyRoutes(d: AdminDeps): express.Router {
  const r = express.Router();
  r.post('/proxy/test', async (req, res) => {
    const input = parse(schema, req.body, 'proxy test');
    const proxy = input.proxy ?? (d.store.proxy || d.config.UPSTREAM_PROXY);
    if (!proxy) throw new BadRequest('No proxy is configured (the account store\'s "proxy" and UPSTREAM_PROXY are empty) and none was given.', { code: 'no_proxy', param: 'proxy' });
    const url = input.url ?? d.config.PROXY_TEST_URL;
    const agent = proxyDispatcher(proxy);
    const started = performance.now();
    try {
      const r2 = await fetch(url, { dispatcher: agent, signal: AbortSignal.timeout(input.timeoutMs), redirect: 'manual' });
      await r2.body?.cancel().catch(() => {});
      res.json({ ok: r2.status < 500 && r2.status !== 407, proxy: maskProxy(proxy), url, status: r2.status, ms: Math.round(performance.now() - started) });
    } catch (err) {
      const e = err as Error & { cause?: Error };
      res.json({ ok: false, proxy: maskProxy(proxy), url, error: e.name === 'TimeoutError' ? `no answer within ${input.timeoutMs} ms` : (e.cause?.message ?? e.message), ms: Math.round(performance.now() - started) });
    } finally {
      await agent.close().catch(() => {});
    }
  });
  return r;
}
