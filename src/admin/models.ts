/**
 * /api/models: every routable model with its provider, the editable model lists of the
 * account-pool providers (stored in the account store), and aliases: MODEL_ALIASES from
 * the environment plus aliases added here (stored, and taking effect at once).
 */
import express from 'express';
import { z } from 'zod';
import { BadRequest, NotFound } from '../core/errors.js';
import { parse } from './validate.js';
import { pooledProvider, type AdminDeps } from './deps.js';
import { kindOf } from '../providers/status-view.js';

const modelName = z.string().regex(/^[\w.:@-]{1,128}$/, 'a model name (letters, digits, . _ : @ -)');
const listSchema = z.strictObject({ models: z.array(modelName).min(1).max(200).refine((m) => new Set(m).size === m.length, 'no duplicates') });
const aliasSchema = z.strictObject({ target: z.string().regex(/^[\w.:@/-]{1,160}$/, 'a model name, optionally provider-qualified') });

export function modelRoutes(d: AdminDeps): express.Router {
  const r = express.Router();

  r.get('/models', (_req, res) => {
    res.json({
      models: d.router.models(),
      providers: d.router.all().map((p) => ({
        id: p.id,
        kind: kindOf(p),
        editable: p.pool !== undefined,
        models: p.models().map((m) => m.id),
        ...(p.pool ? { configured: d.store.settings(p.id).models ?? null } : {}),
      })),
      aliases: { environment: d.config.MODEL_ALIASES, stored: d.store.aliases },
    });
  });

  r.put('/models/aliases/:alias', async (req, res) => {
    const alias = modelName.safeParse(req.params.alias);
    if (!alias.success) throw new BadRequest(`Invalid alias '${req.params.alias}': ${alias.error.issues[0]?.message}.`, { code: 'invalid_admin_input', param: 'alias' });
    const { target } = parse(aliasSchema, req.body, 'alias');
    if (target === alias.data) throw new BadRequest('An alias cannot point at itself.', { code: 'invalid_admin_input', param: 'target' });
    // the target must route now (an alias of an alias is not followed)
    try {
      d.router.resolve(target);
    } catch (err) {
      throw new BadRequest(`The alias target does not route: ${(err as Error).message}`, { code: 'invalid_admin_input', param: 'target' });
    }
    await d.store.setAlias(alias.data, target);
    d.log.info({ alias: alias.data, target }, 'admin: alias set');
    res.json({ alias: alias.data, target, provider: d.router.resolve(alias.data).provider.id });
  });

  r.delete('/models/aliases/:alias', async (req, res) => {
    if (!(req.params.alias! in d.store.aliases)) throw new NotFound(`No stored alias '${req.params.alias}'.`, { code: 'alias_not_found' });
    await d.store.setAlias(req.params.alias!, undefined);
    res.json({ deleted: req.params.alias });
  });

  r.put('/models/:provider', async (req, res) => {
    const p = pooledProvider(d.router, req.params.provider!);
    const { models } = parse(listSchema, req.body, 'model list');
    await d.store.setSettings(p.id, { models });
    d.log.info({ provider: p.id, models: models.length }, 'admin: model list set');
    res.json({ provider: p.id, models });
  });

  r.delete('/models/:provider', async (req, res) => {
    const p = pooledProvider(d.router, req.params.provider!);
    await d.store.setSettings(p.id, { models: undefined });
    res.json({ provider: p.id, models: p.models().map((m) => m.id), reset: true });
  });

  return r;
}
