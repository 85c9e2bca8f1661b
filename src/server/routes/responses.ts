/** GET and DELETE /v1/responses/{id}: stored Responses-API answers (POST is a hot route). */
import express, { type RequestHandler } from 'express';
import { NotFound } from '../../core/errors.js';
import type { ResponseStore } from '../../surfaces/responses/index.js';

export function responsesRoutes(store: ResponseStore, limit: readonly RequestHandler[]) {
  const r = express.Router();
  const missing = (id: string) =>
    new NotFound(`Response with id '${id}' not found: it was never stored (store: false), was deleted, or expired.`, { code: 'response_not_found', param: 'response_id' });
  r.get('/responses/:id', ...limit, async (req, res, next) => {
    const id = String(req.params.id);
    const stored = await store.get(id);
    if (!stored) return next(missing(id));
    res.json(stored.response);
  });
  r.delete('/responses/:id', ...limit, async (req, res, next) => {
    const id = String(req.params.id);
    if (!(await store.delete(id))) return next(missing(id));
    res.json({ id, object: 'response', deleted: true });
  });
  return r;
}
