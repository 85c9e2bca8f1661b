/**
 * /api/keys: client keys. A key is made with a name (and optionally an expiry, models and
 * limits); its secret is in the answer to the POST and nowhere else, ever (only its hash is
 * stored). Keys are listed with their last use and today's usage, edited, disabled, revoked
 * (for good: a revoked key stays listed so its use is refused by name) and deleted.
 * GET /api/keys/:id/usage: its usage over time (by model) and what it has used against its limits.
 */
import express from 'express';
import { z } from 'zod';
import { CligateError, NotFound } from '../core/errors.js';
import { type ClientKey, hashSecret, hintOf, keyLimitsSchema, keyNameSchema, keyRefusal, newKeyId, newSecret } from '../keys/key.js';
import { parse } from './validate.js';
import type { AdminDeps } from './deps.js';
import { BUCKETS, bucketSchema } from './insights.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** an expiry: epoch ms or an ISO date, in the future */
const expiry = z
  .union([z.number().int().positive(), z.string().datetime({ offset: true })])
  .transform((v) => (typeof v === 'number' ? v : Date.parse(v)))
  .refine((t) => t > Date.now(), 'must be in the future');
const models = z.array(z.string().trim().min(1).max(200)).min(1).max(200);

const createSchema = z
  .strictObject({
    name: keyNameSchema,
    expiresAt: expiry.optional(),
    expiresInDays: z.number().positive().max(3650).optional(),
    models: models.optional(),
    limits: keyLimitsSchema.optional(),
    enabled: z.boolean().optional(),
  })
  .refine((b) => b.expiresAt === undefined || b.expiresInDays === undefined, { message: 'give expiresAt or expiresInDays, not both', path: ['expiresInDays'] });

// null removes an expiry, a model list or one limit
const nullableLimits = z.strictObject({
  requestsPerMinute: z.number().int().positive().nullable().optional(),
  tokensPerDay: z.number().int().positive().nullable().optional(),
  concurrent: z.number().int().positive().nullable().optional(),
});
const patchSchema = z.strictObject({
  name: keyNameSchema.optional(),
  expiresAt: expiry.nullable().optional(),
  models: models.nullable().optional(),
  limits: nullableLimits.optional(),
  enabled: z.boolean().optional(),
});
const usageQuery = z.strictObject({
  hours: z.coerce.number().positive().max(24 * 366).default(24),
  bucket: bucketSchema,
});

const conflict = (message: string, code: string, param?: string) => new CligateError('bad_request', 409, message, { code, ...(param ? { param } : {}) });

export function keyRoutes(d: AdminDeps): express.Router {
  const r = express.Router();
  const { ring, limiter } = d.keys;

  const find = (id: string): ClientKey => {
    const key = d.store.keys.find((k) => k.id === id);
    if (!key) throw new NotFound(`No key '${id}'.`, { code: 'key_not_found', param: 'id' });
    return key;
  };
  const nameFree = (name: string, except?: string) => {
    if (d.store.keys.some((k) => k.name === name && k.id !== except)) throw conflict(`A key named '${name}' exists already: usage is counted by name, so names are unique.`, 'key_name_taken', 'name');
  };

  /** a key as the console shows it: never its hash */
  const view = (k: ClientKey, lastUse: Map<string, number>, today?: { requests: number; errors: number; tokensIn: number; tokensOut: number }) => {
    const { hash: _hash, ...rest } = k;
    return {
      ...rest,
      state: keyRefusal(k) ?? 'active',
      lastUsedAt: lastUse.get(k.id) ?? null,
      today: today ?? { requests: 0, errors: 0, tokensIn: 0, tokensOut: 0 },
    };
  };
  /** today's (UTC) usage of every key, by name */
  const todayByName = () => {
    const now = Date.now();
    const { series } = d.usage.query({ since: now - (now % DAY), until: now + 1, bucketMs: DAY, groupBy: 'key' });
    return new Map(series.map((s) => [s.group, { requests: s.totals.requests, errors: s.totals.errors, tokensIn: s.totals.tokensIn, tokensOut: s.totals.tokensOut }]));
  };

  r.get('/keys', async (_req, res) => {
    const [lastUse, today] = [await ring.lastUse(), todayByName()];
    res.json({ keys: d.store.keys.map((k) => view(k, lastUse, today.get(k.name))) });
  });

  r.post('/keys', async (req, res) => {
    const b = parse(createSchema, req.body, 'key');
    nameFree(b.name);
    const secret = newSecret();
    const now = Date.now();
    const expiresAt = b.expiresAt ?? (b.expiresInDays !== undefined ? now + Math.round(b.expiresInDays * DAY) : undefined);
    const key = await d.store.upsertKey({
      id: newKeyId(),
      name: b.name,
      hash: hashSecret(secret),
      hint: hintOf(secret),
      createdAt: now,
      ...(expiresAt !== undefined ? { expiresAt } : {}),
      ...(b.models ? { models: b.models } : {}),
      limits: b.limits ?? {},
      enabled: b.enabled ?? true,
    });
    d.log.info({ key: key.name, id: key.id }, 'admin: key created');
    // the only time the secret leaves the server
    res.status(201).json({ key: view(key, new Map()), secret });
  });

  r.get('/keys/:id', async (req, res) => {
    const key = find(req.params.id!);
    res.json({ key: view(key, await ring.lastUse(), todayByName().get(key.name)) });
  });

  r.patch('/keys/:id', async (req, res) => {
    const key = find(req.params.id!);
    const b = parse(patchSchema, req.body, 'key change');
    if (b.name !== undefined) nameFree(b.name, key.id);
    if (b.enabled && key.revokedAt !== undefined) throw conflict(`Key '${key.name}' was revoked; a revoked key is never enabled again. Make a new one.`, 'key_revoked', 'enabled');
    const next: ClientKey = { ...key, ...(b.name !== undefined ? { name: b.name } : {}), ...(b.enabled !== undefined ? { enabled: b.enabled } : {}) };
    if (b.expiresAt === null) delete next.expiresAt;
    else if (b.expiresAt !== undefined) next.expiresAt = b.expiresAt;
    if (b.models === null) delete next.models;
    else if (b.models !== undefined) next.models = b.models;
    if (b.limits) {
      const limits: Record<string, number | undefined> = { ...key.limits };
      for (const [k, v] of Object.entries(b.limits)) limits[k] = v ?? undefined;
      next.limits = Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined));
    }
    const saved = await d.store.upsertKey(next);
    d.log.info({ key: saved.name, id: saved.id, changed: Object.keys(b) }, 'admin: key changed');
    res.json({ key: view(saved, await ring.lastUse(), todayByName().get(saved.name)) });
  });

  r.post('/keys/:id/revoke', async (req, res) => {
    const key = find(req.params.id!);
    const saved = key.revokedAt !== undefined ? key : await d.store.upsertKey({ ...key, enabled: false, revokedAt: Date.now() });
    d.log.info({ key: saved.name, id: saved.id }, 'admin: key revoked');
    res.json({ key: view(saved, await ring.lastUse(), todayByName().get(saved.name)) });
  });

  r.delete('/keys/:id', async (req, res) => {
    const key = find(req.params.id!);
    await d.store.removeKey(key.id);
    await ring.forget(key.id);
    d.log.info({ key: key.name, id: key.id }, 'admin: key deleted');
    res.json({ deleted: true, id: key.id });
  });

  r.get('/keys/:id/usage', async (req, res) => {
    const key = find(req.params.id!);
    const q = parse(usageQuery, req.query, 'usage query');
    const until = Date.now();
    const since = until - q.hours * HOUR;
    const [lastUse, use] = await Promise.all([ring.lastUse(), limiter.use(key).catch(() => undefined)]);
    res.json({
      key: view(key, lastUse, todayByName().get(key.name)),
      limits: key.limits,
      // what counts against the limits now (from shared state: every instance's requests)
      use: use ?? null,
      since,
      until,
      bucket: q.bucket,
      groupBy: 'model',
      ...d.usage.query({ since, until, bucketMs: BUCKETS[q.bucket], groupBy: 'model', where: { key: key.name } }),
    });
  });

  return r;
}
