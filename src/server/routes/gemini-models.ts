/**
 * GET /v1beta/models and /v1beta/models/{model} in Gemini's shape: what can answer now;
 * `?all=true` adds the rest, marked `available: false` with the reason (routes/models.ts).
 */
import express, { type RequestHandler } from 'express';
import type { ListedModel, Router } from '../../routing/router.js';
import { listedFor } from '../../keys/scope.js';
import { keyOf, type Caller } from '../../keys/ring.js';
import { NotFound } from '../../core/errors.js';
import { modelFromPath } from '../../surfaces/gemini/decode.js';
import { marks, wantsAll } from './models.js';

const entry = (m: ListedModel, all: boolean) => ({
  name: `models/${m.id}`,
  version: '001',
  displayName: m.id,
  description: `${m.id} served by cligate (${m.provider})`,
  inputTokenLimit: 200_000,
  outputTokenLimit: 64_000,
  supportedGenerationMethods: ['generateContent', 'streamGenerateContent', 'countTokens'],
  ...marks(m, all),
});

export function geminiModelsRoutes(router: Router, limit: readonly RequestHandler[]) {
  const r = express.Router();
  r.get('/models', ...limit, async (req, res) => {
    const all = wantsAll(req);
    res.json({ models: listedFor(keyOf(res.locals.caller as Caller | undefined), await router.listModels({ all })).map((m) => entry(m, all)) });
  });
  r.get('/models/:model', ...limit, async (req, res, next) => {
    const id = modelFromPath(String(req.params.model));
    const model = await router.modelStatus(id).catch(() => undefined);
    if (model) return void res.json(entry(model, false));
    next(new NotFound(`Model 'models/${id}' is not found.`, { code: 'model_not_found' }));
  });
  return r;
}
