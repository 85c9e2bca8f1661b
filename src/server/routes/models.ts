import express, { type RequestHandler } from 'express';
import type { Router } from '../../routing/router.js';
import { NotFound } from '../../core/errors.js';

const CREATED = Math.floor(Date.UTC(2025, 0, 1) / 1000);

export function modelsRoutes(router: Router, limit: readonly RequestHandler[]) {
  const r = express.Router();
  // one shape that both the OpenAI and the Anthropic SDK read (each ignores the other's fields)
  const entry = (id: string, provider: string) => ({
    id,
    object: 'model',
    created: CREATED,
    owned_by: provider,
    type: 'model',
    display_name: id,
    created_at: new Date(CREATED * 1000).toISOString(),
  });
  r.get('/models', ...limit, async (_req, res) => {
    const data = (await router.listModels()).map((m) => entry(m.id, m.provider));
    res.json({ object: 'list', data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null });
  });
  // "*id": qualified names ("claude-cli/claude-sonnet-4-5") contain a slash
  r.get('/models/*id', ...limit, (req, res, next) => {
    const raw = req.params.id as unknown;
    const id = Array.isArray(raw) ? raw.join('/') : String(raw);
    const model = router.models().find((m) => m.id === id);
    if (model) return void res.json(entry(model.id, model.provider));
    try {
      const { provider } = router.resolve(id); // served by pattern though not listed
      res.json(entry(id, provider.id));
    } catch {
      next(new NotFound(`The model '${id}' does not exist.`, { code: 'model_not_found', param: 'model' }));
    }
  });
  return r;
}
