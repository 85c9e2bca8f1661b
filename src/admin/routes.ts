/**
 * /api/routes: model routes (a name or glob -> providers tried in order). The stored routes
 * (account store, effective at once on every instance) are edited here; MODEL_ROUTES from
 * the environment is shown read-only (a stored route with the same match replaces it).
 * POST /api/routes/try shows what a model name would be sent to, without calling a provider.
 */
import express from 'express';
import { z } from 'zod';
import { BadRequest, NotFound } from '../core/errors.js';
import { formatRoutes, modelRouteSchema, modelRoutesSchema, type ModelRoute } from '../routing/routes.js';
import { nameVariants } from '../routing/names.js';
import type { Router } from '../routing/router.js';
import { parse } from './validate.js';
import type { AdminDeps } from './deps.js';
import { kindOf, providerView } from '../providers/status-view.js';

const putAllSchema = z.strictObject({ routes: modelRoutesSchema });
const putOneSchema = z.strictObject({ targets: modelRouteSchema.shape.targets });
const trySchema = z.strictObject({ model: z.string().min(1).max(256) });

/** every target names a provider that exists (400 naming the field and the provider otherwise) */
export function checkTargets(router: Router, routes: readonly ModelRoute[], what: string, at: (i: number, j: number) => string): void {
  for (const [i, r] of routes.entries()) {
    for (const [j, t] of r.targets.entries()) {
      const id = t.split('/')[0]!;
      if (!router.provider(id)) {
        throw new BadRequest(`Invalid ${what}: ${at(i, j)}: no provider '${id}' (providers: ${router.all().map((p) => p.id).join(', ')}).`, { code: 'invalid_admin_input', param: at(i, j) });
      }
    }
  }
}

/** targets naming a model their provider does not serve: allowed (model lists change), but said */
function warnings(router: Router, routes: readonly ModelRoute[]): string[] {
  const out: string[] = [];
  for (const r of routes) {
    for (const t of r.targets) {
      const slash = t.indexOf('/');
      if (slash < 0) continue;
      const p = router.provider(t.slice(0, slash));
      const model = t.slice(slash + 1);
      if (p && !nameVariants(model).some((v) => p.handles(v))) out.push(`${t}: '${p.id}' does not serve '${model}' now; it is skipped until it does`);
    }
  }
  return out;
}

export function routeRoutes(d: AdminDeps): express.Router {
  const r = express.Router();

  const overview = async () => ({
    stored: d.store.routes,
    environment: d.config.MODEL_ROUTES,
    effective: await d.router.readiness(d.store.routes),
    env: formatRoutes(d.router.routes),
    providers: d.router.all().map((p) => ({ id: p.id, kind: kindOf(p), models: p.models().map((m) => m.id) })),
  });

  const matchParam = (raw: string): string => {
    const m = modelRouteSchema.shape.match.safeParse(raw);
    if (!m.success) throw new BadRequest(`Invalid route match '${raw}': ${m.error.issues[0]?.message}.`, { code: 'invalid_admin_input', param: 'match' });
    return m.data;
  };

  r.get('/routes', async (_req, res) => {
    res.json(await overview());
  });

  r.put('/routes', async (req, res) => {
    const { routes } = parse(putAllSchema, req.body, 'routes');
    checkTargets(d.router, routes, 'routes', (i, j) => `routes.${i}.targets.${j}`);
    await d.store.setRoutes(routes);
    d.log.info({ routes: routes.length }, 'admin: routes set');
    res.json({ ...(await overview()), warnings: warnings(d.router, routes) });
  });

  r.put('/routes/:match', async (req, res) => {
    const match = matchParam(req.params.match!);
    const { targets } = parse(putOneSchema, req.body, 'route');
    checkTargets(d.router, [{ match, targets }], 'route', (_i, j) => `targets.${j}`);
    const current = d.store.routes;
    const at = current.findIndex((x) => x.match === match);
    // an edited route keeps its place (first match wins); a new one goes after the stored ones
    const next = at >= 0 ? current.map((x, i) => (i === at ? { match, targets } : x)) : [...current, { match, targets }];
    const all = modelRoutesSchema.safeParse(next);
    if (!all.success) throw new BadRequest(`Invalid routes: ${all.error.issues[0]?.message}.`, { code: 'invalid_admin_input', param: 'match' });
    await d.store.setRoutes(all.data);
    d.log.info({ match, targets }, 'admin: route set');
    const effective = (await d.router.readiness(d.store.routes)).find((x) => x.match === match);
    res.status(at >= 0 ? 200 : 201).json({ match, targets, created: at < 0, readiness: effective ?? null, warnings: warnings(d.router, [{ match, targets }]) });
  });

  r.delete('/routes/:match', async (req, res) => {
    const match = req.params.match!;
    if (!d.store.routes.some((x) => x.match === match)) {
      const fromEnv = d.config.MODEL_ROUTES.some((x) => x.match === match);
      throw new NotFound(fromEnv ? `The route '${match}' comes from MODEL_ROUTES (the environment); change it there, or set a stored route with the same match to replace it.` : `No stored route '${match}'.`, { code: 'route_not_found', param: 'match' });
    }
    await d.store.setRoutes(d.store.routes.filter((x) => x.match !== match));
    d.log.info({ match }, 'admin: route deleted');
    res.json({ deleted: match });
  });

  r.post('/routes/try', async (req, res) => {
    const { model } = parse(trySchema, req.body, 'model');
    // 400 for a name that cannot be a model, 404 (saying what was skipped) when nothing serves it
    const plan = d.router.plan(model);
    const views = new Map<string, Awaited<ReturnType<typeof providerView>>>();
    const targets = [];
    for (const t of plan.targets) {
      let v = views.get(t.provider.id);
      if (!v) views.set(t.provider.id, (v = await providerView(t.provider, d.warm)));
      targets.push({ target: t.target, provider: t.provider.id, model: t.model, thinking: t.thinking, progress: t.progress, ready: v.ready, detail: v.detail });
    }
    const route = plan.route ? { match: plan.route.match, targets: plan.route.targets, source: d.store.routes.some((x) => x.match === plan.route!.match) ? 'stored' : 'environment' } : null;
    res.json({ requested: plan.requested, route, targets, skipped: plan.skipped, serving: targets.find((t) => t.ready)?.target ?? null });
  });

  return r;
}
