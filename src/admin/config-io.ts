/**
 * /api/config: the whole account store (proxy, provider settings, accounts with their
 * secrets, aliases, model routes, client keys as hashes) as one JSON document to download, and its import: validated in full,
 * then written atomically; accounts whose credentials changed get a fresh chance.
 * The export is the one admin answer that carries secrets.
 */
import express from 'express';
import { storeSchema } from '../accounts/store.js';
import { BadRequest } from '../core/errors.js';
import { parse } from './validate.js';
import { pooled, type AdminDeps } from './deps.js';
import { checkTargets } from './routes.js';

export function configRoutes(d: AdminDeps): express.Router {
  const r = express.Router();

  r.get('/config', (_req, res) => {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    res.set('Content-Disposition', `attachment; filename="cligate-config-${stamp}.json"`);
    res.set('Cache-Control', 'no-store');
    res.json({ cligate: 'config', version: 1, exportedAt: new Date().toISOString(), store: d.store.snapshot() });
  });

  r.put('/config', async (req, res) => {
    const body = req.body as { store?: unknown } | undefined;
    // either the export document or the bare store
    const input = body && typeof body === 'object' && 'store' in body ? body.store : body;
    // strict: an unknown top-level key is a mistake (or a "__proto__"), not something to drop silently
    const data = parse(storeSchema.strict(), input, 'configuration');
    const ids = new Set<string>();
    const known = new Set(pooled(d.router).map((p) => p.id));
    for (const [i, a] of data.accounts.entries()) {
      if (ids.has(a.id)) throw new BadRequest(`Invalid configuration: accounts.${i}.id: '${a.id}' appears twice.`, { code: 'invalid_admin_input', param: `accounts.${i}.id` });
      if (!known.has(a.provider)) throw new BadRequest(`Invalid configuration: accounts.${i}.provider: no account-pool provider '${a.provider}' (known: ${[...known].join(', ')}).`, { code: 'invalid_admin_input', param: `accounts.${i}.provider` });
      ids.add(a.id);
    }
    for (const what of ['id', 'name'] as const) {
      const seen = new Set<string>();
      for (const [i, k] of data.keys.entries()) {
        if (seen.has(k[what])) throw new BadRequest(`Invalid configuration: keys.${i}.${what}: '${k[what]}' appears twice.`, { code: 'invalid_admin_input', param: `keys.${i}.${what}` });
        seen.add(k[what]);
      }
    }
    // a route to a provider this server does not have would only ever be skipped
    checkTargets(d.router, data.routes, 'configuration', (i, j) => `routes.${i}.targets.${j}`);
    const before = new Map(d.store.accounts().map((a) => [a.id, JSON.stringify(a.credentials)]));
    await d.store.replace(data);
    for (const p of pooled(d.router)) for (const a of d.store.accounts(p.id)) if (before.get(a.id) !== JSON.stringify(a.credentials)) p.pool.restore(a.id);
    d.log.info({ accounts: data.accounts.length }, 'admin: configuration imported');
    res.json({ imported: true, accounts: data.accounts.length, providers: Object.keys(data.providers).length, aliases: Object.keys(data.aliases).length, routes: data.routes.length, keys: data.keys.length });
  });

  return r;
}
