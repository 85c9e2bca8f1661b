import express, { type RequestHandler } from 'express';
import type { Router } from '../../routing/router.js';
import { NotFound } from '../../core/errors.js';

const CREATED = Math.floor(Date.UTC(2025, 0, 1) / 1000);

export function modelsRoutes(router: Router, limit: RequestHandler) {
  const r = express.Router();
  const entry = (id: string, provider: string) => ({ id, object: 'model', created: CREATED, owned_by: provider });
  r.get('/models', limit, (_req, res) => {
    res.json({ object: 'list', data: router.models().map((m) => entry(m.id, m.provider)) });
  });
  r.get('/models/:id', limit, (req, res, next) => {
    const id = String(req.params.id);
    const model = router.models().find((m) => m.id === id);
    if (model) return void res.json(entry(model.id, model.provider));
    try {
      const provider = router.resolve(id); // served by pattern though not listed
      res.json(entry(id, provider.id));
    } catch {
      next(new NotFound(`The model '${id}' does not exist.`, { code: 'model_not_found', param: 'model' }));
    }
  });
  return r;
}
