/**
 * /api/accounts: list (masked, with pool state), create, read, edit (enable/disable,
 * weight, label, proxy, credentials), delete, and a real credential test.
 * Credentials come back masked; an edit that sends a masked value back keeps the stored one.
 */
import { randomBytes } from 'node:crypto';
import express from 'express';
import { z } from 'zod';
import { CligateError, NotFound } from '../core/errors.js';
import { maskAccount, maskSecret } from '../accounts/mask.js';
import type { Account } from '../accounts/types.js';
import { parse } from './validate.js';
import { pooled, pooledProvider, type AdminDeps } from './deps.js';

const id = z.string().regex(/^[A-Za-z0-9][\w.@-]{0,63}$/, 'letters, digits and . _ @ - (at most 64)');
const proxy = z.union([z.literal(''), z.string().url().refine((u) => /^(https?|socks5?):/.test(u), 'an http(s):// or socks:// URL')]);
const credentials = z.record(z.string().regex(/^[\w.-]{1,64}$/, 'a credential name'), z.string().max(16_384));

const createSchema = z.strictObject({
  id: id.optional(),
  provider: z.string().min(1),
  label: z.string().max(200).optional(),
  enabled: z.boolean().default(true),
  weight: z.number().int().min(0).max(1_000_000).default(100),
  proxy: proxy.optional(),
  credentials: credentials.refine((c) => Object.keys(c).length > 0, 'at least one credential'),
});

const patchSchema = z.strictObject({
  label: z.string().max(200).optional(),
  enabled: z.boolean().optional(),
  weight: z.number().int().min(0).max(1_000_000).optional(),
  proxy: proxy.optional(),
  credentials: credentials.optional(),
});

export function accountView(d: AdminDeps, a: Account) {
  const p = pooled(d.router).find((x) => x.id === a.provider);
  const s = p?.pool.status().find((x) => x.id === a.id);
  return { ...maskAccount(a), state: s ? { usable: s.usable, ...s.health } : { usable: false, unavailable: `provider '${a.provider}' is not running` } };
}

export function accountRoutes(d: AdminDeps): express.Router {
  const r = express.Router();
  const find = (accountId: string): Account => {
    const a = d.store.get(accountId);
    if (!a) throw new NotFound(`No account '${accountId}'.`, { code: 'account_not_found' });
    return a;
  };

  r.get('/accounts', (req, res) => {
    const provider = typeof req.query.provider === 'string' ? req.query.provider : undefined;
    if (provider) pooledProvider(d.router, provider);
    res.json({ accounts: d.store.accounts(provider).map((a) => accountView(d, a)), providers: pooled(d.router).map((p) => p.id) });
  });

  r.post('/accounts', async (req, res) => {
    const input = parse(createSchema, req.body, 'account');
    pooledProvider(d.router, input.provider, 'body');
    const accountId = input.id ?? `${input.provider}-${randomBytes(4).toString('hex')}`;
    if (d.store.get(accountId)) throw new CligateError('bad_request', 409, `An account '${accountId}' exists already.`, { code: 'account_exists', param: 'id' });
    const { proxy: px, ...rest } = input;
    const a = await d.store.upsert({ ...rest, id: accountId, ...(px ? { proxy: px } : {}) });
    d.log.info({ account: a.id, provider: a.provider }, 'admin: account added');
    res.status(201).json(accountView(d, a));
  });

  r.get('/accounts/:id', (req, res) => {
    res.json(accountView(d, find(req.params.id!)));
  });

  r.patch('/accounts/:id', async (req, res) => {
    const current = find(req.params.id!);
    const patch = parse(patchSchema, req.body, 'account change');
    const next: Account = { ...current, ...(patch.label !== undefined ? { label: patch.label } : {}), ...(patch.enabled !== undefined ? { enabled: patch.enabled } : {}), ...(patch.weight !== undefined ? { weight: patch.weight } : {}) };
    if (patch.proxy !== undefined) {
      if (patch.proxy) next.proxy = patch.proxy;
      else delete next.proxy;
    }
    let credentialsChanged = false;
    if (patch.credentials) {
      const merged: Record<string, string> = {};
      for (const [k, v] of Object.entries(patch.credentials)) {
        // the masked value the list showed, sent back unchanged: keep the secret
        const old = current.credentials[k];
        if (old !== undefined && v === maskSecret(old)) merged[k] = old;
        else {
          merged[k] = v;
          credentialsChanged ||= old !== v;
        }
      }
      credentialsChanged ||= Object.keys(current.credentials).some((k) => !(k in merged));
      next.credentials = merged;
    }
    // new credentials (or re-enabling) give the account a fresh chance
    if (credentialsChanged || patch.enabled === true) delete next.disabledReason;
    const a = await d.store.upsert(next);
    if (credentialsChanged || patch.enabled === true) pooledProvider(d.router, a.provider).pool.restore(a.id);
    d.log.info({ account: a.id, fields: Object.keys(patch) }, 'admin: account changed');
    res.json(accountView(d, a));
  });

  r.delete('/accounts/:id', async (req, res) => {
    find(req.params.id!);
    await d.store.remove(req.params.id!);
    d.log.info({ account: req.params.id }, 'admin: account removed');
    res.json({ deleted: req.params.id });
  });

  r.post('/accounts/:id/test', async (req, res) => {
    const a = find(req.params.id!);
    const p = pooledProvider(d.router, a.provider);
    if (!p.testAccount) throw new CligateError('not_implemented', 501, `Provider '${p.id}' has no credential test.`, { code: 'test_not_supported' });
    const started = Date.now();
    const result = await p.pool.check(a.id, (acc) => p.testAccount!(acc), d.log);
    res.json({ id: a.id, provider: a.provider, ...result, ms: Date.now() - started, account: accountView(d, d.store.get(a.id) ?? a) });
  });

  return r;
}
