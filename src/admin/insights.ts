/**
 * /api/status (every provider's readiness, warm processes, the routes and which target would
 * serve each), /api/pool (account states), /api/usage (totals and time series), /api/history
 * (recent chats).
 */
import express from 'express';
import { z } from 'zod';
import { NotFound } from '../core/errors.js';
import { GROUPS } from '../usage/book.js';
import { parse } from './validate.js';
import { pooled, type AdminDeps } from './deps.js';
import { accountView } from './accounts.js';
import { maskProxy } from '../accounts/mask.js';
import { collectLimits } from '../server/routes/account-limits.js';
import { providerViews } from '../providers/status-view.js';

const HOUR = 3_600_000;
/** a usage series' bucket width, as queries name it (also GET /api/keys/:id/usage) */
export const BUCKETS = { minute: 60_000, '5m': 300_000, '15m': 900_000, hour: HOUR, day: 24 * HOUR } as const;
export const bucketSchema = z.enum(['minute', '5m', '15m', 'hour', 'day']).default('hour');
const usageQuery = z.strictObject({
  // hours back from now (default a day), or explicit epoch-ms bounds
  hours: z.coerce.number().positive().max(24 * 366).optional(),
  since: z.coerce.number().int().nonnegative().optional(),
  until: z.coerce.number().int().positive().optional(),
  bucket: bucketSchema,
  groupBy: z.enum(GROUPS).default('provider'),
  // only one client key's requests (its name; "master" for API_KEY)
  key: z.string().min(1).max(64).optional(),
});

const historyQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  provider: z.string().max(64).optional(),
  model: z.string().max(160).optional(),
  key: z.string().max(64).optional(),
  q: z.string().max(200).optional(),
});

export function insightRoutes(d: AdminDeps): express.Router {
  const r = express.Router();

  // the overview: every provider (CLIs included) and every effective route with its readiness
  r.get('/status', async (_req, res) => {
    const [providers, routes] = await Promise.all([providerViews(d.router.all(), d.warm), d.router.readiness(d.store.routes)]);
    res.json({ providers, routes, warm: d.warm ? { enabled: d.warm.enabled, ...d.warm.stats() } : { enabled: false, idle: 0, starting: 0, hits: 0 } });
  });

  r.get('/pool', (_req, res) => {
    res.json({
      providers: pooled(d.router).map((p) => {
        const settings = d.store.settings(p.id);
        const accounts = d.store.accounts(p.id).map((a) => accountView(d, a));
        return {
          id: p.id,
          strategy: settings.strategy ?? null,
          maxAttempts: settings.maxAttempts ?? null,
          accounts,
          summary: {
            total: accounts.length,
            usable: accounts.filter((a) => a.state.usable).length,
            cooling: accounts.filter((a) => 'coolUntil' in a.state && (a.state.coolUntil ?? 0) > Date.now()).length,
            unavailable: accounts.filter((a) => a.enabled && (a.disabledReason || ('unavailable' in a.state && a.state.unavailable))).length,
            disabled: accounts.filter((a) => !a.enabled).length,
          },
        };
      }),
      proxy: d.store.proxy ? maskProxy(d.store.proxy) : '',
    });
  });

  // per-account quota from the upstream (Cloud Code), as GET /account-limits gives it
  r.get('/limits', async (_req, res) => {
    res.json({ limits: (await collectLimits(d.router)).map((r2) => ({ provider: r2.provider, ...r2.limits })) });
  });

  r.get('/usage', (req, res) => {
    const q = parse(usageQuery, req.query, 'usage query');
    const until = q.until ?? Date.now();
    const since = q.since ?? until - (q.hours ?? 24) * HOUR;
    res.json({ since, until, bucket: q.bucket, groupBy: q.groupBy, ...d.usage.query({ since, until, bucketMs: BUCKETS[q.bucket], groupBy: q.groupBy, ...(q.key ? { where: { key: q.key } } : {}) }) });
  });

  r.get('/history', (req, res) => {
    const q = parse(historyQuery, req.query, 'history query');
    res.json({ enabled: d.history.opts.enabled, entries: d.history.list(q) });
  });

  r.get('/history/:requestId', (req, res) => {
    const e = d.history.get(req.params.requestId!);
    if (!e) throw new NotFound(`No chat '${req.params.requestId}' in the recent history.`, { code: 'history_not_found' });
    res.json(e);
  });

  return r;
}
