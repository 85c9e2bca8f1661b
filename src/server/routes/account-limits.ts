/**
 * GET /account-limits — per-account quota and reset times of every provider that can
 * tell (Cloud Code), as JSON, or as a plain-text table with ?format=table.
 */
import type { RequestHandler } from 'express';
import type { Router } from '../../routing/router.js';
import type { AccountLimits } from '../../providers/cloudcode/index.js';

interface LimitsSource {
  id: string;
  accountLimits(): Promise<AccountLimits[]>;
}

const hasLimits = (p: object): p is LimitsSource => typeof (p as Partial<LimitsSource>).accountLimits === 'function';

function table(rows: { provider: string; limits: AccountLimits }[]): string {
  const lines = [['provider', 'account', 'model', 'remaining', 'resets at'].join('\t')];
  for (const { provider, limits } of rows) {
    if (limits.error || !limits.models.length) lines.push([provider, limits.account, '-', limits.error ?? 'no quota reported', '-'].join('\t'));
    for (const m of limits.models) {
      const pct = m.remainingFraction === undefined ? '?' : `${Math.round(m.remainingFraction * 1000) / 10}%`;
      lines.push([provider, limits.account, m.model, pct, m.resetTime ?? '-'].join('\t'));
    }
  }
  return `${lines.join('\n')}\n`;
}

/** every provider's per-account quota (providers that report none are left out) */
export async function collectLimits(router: Router): Promise<{ provider: string; limits: AccountLimits }[]> {
  const sources = router.all().filter((p): p is (typeof p & LimitsSource) => hasLimits(p));
  return (await Promise.all(sources.map(async (p) => (await p.accountLimits()).map((limits) => ({ provider: p.id, limits }))))).flat();
}

export function accountLimitsRoute(router: Router): RequestHandler {
  return async (req, res, next) => {
    try {
      const rows = await collectLimits(router);
      if (req.query.format === 'table') res.type('text/plain').send(table(rows));
      else res.json({ object: 'list', data: rows.map((r) => ({ provider: r.provider, ...r.limits })) });
    } catch (err) {
      next(err);
    }
  };
}
