/**
 * GET /v1/models and /v1/models/{id} in the shape both the OpenAI and the Anthropic SDK read.
 * The list holds what can answer now (a CLI installed and logged in, a pool with a usable
 * account, a configured upstream); `?all=true` adds the rest, marked `available: false` with
 * the reason. A known name that cannot answer now is still found by GET /v1/models/{id}
 * (200, marked the same way): the name is right, the chat request says what to fix, and a
 * client that checks its configured model at start (retrieve) is not told it does not exist.
 */
import express, { type Request, type RequestHandler } from 'express';
import type { ListedModel, Router } from '../../routing/router.js';
import { NotFound } from '../../core/errors.js';
import { listedFor } from '../../keys/scope.js';
import { keyOf, type Caller } from '../../keys/ring.js';

const CREATED = Math.floor(Date.UTC(2025, 0, 1) / 1000);

/** `?all=true` (or 1): the models that cannot answer now too */
export function wantsAll(req: Request): boolean {
  const v = req.query.all;
  return v === 'true' || v === '1' || v === '';
}

/** the marks on a model that cannot answer now (and `available` on every entry of an ?all listing) */
export function marks(m: ListedModel, all: boolean): { available?: boolean; reason?: string } {
  if (m.available) return all ? { available: true } : {};
  return { available: false, ...(m.reason ? { reason: m.reason } : {}) };
}

export function modelsRoutes(router: Router, limit: readonly RequestHandler[]) {
  const r = express.Router();
  // one shape that both the OpenAI and the Anthropic SDK read (each ignores the other's fields)
  const entry = (m: ListedModel, all: boolean) => ({
    id: m.id,
    object: 'model',
    created: CREATED,
    owned_by: m.provider,
    type: 'model',
    display_name: m.id,
    created_at: new Date(CREATED * 1000).toISOString(),
    ...marks(m, all),
  });
  r.get('/models', ...limit, async (req, res) => {
    const all = wantsAll(req);
    const data = listedFor(keyOf(res.locals.caller as Caller | undefined), await router.listModels({ all })).map((m) => entry(m, all));
    res.json({ object: 'list', data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null });
  });
  // "*id": qualified names ("claude-cli/claude-opus-4-8") contain a slash
  r.get('/models/*id', ...limit, async (req, res, next) => {
    const raw = req.params.id as unknown;
    const id = Array.isArray(raw) ? raw.join('/') : String(raw);
    // listed, or served by pattern though not listed
    const model = await router.modelStatus(id).catch(() => undefined);
    if (model) return void res.json(entry(model, false));
    next(new NotFound(`The model '${id}' does not exist.`, { code: 'model_not_found', param: 'model' }));
  });
  return r;
}
