/** GET /v1beta/models and /v1beta/models/{model} in Gemini's shape. */
import express, { type RequestHandler } from 'express';
import type { Router } from '../../routing/router.js';
import { NotFound } from '../../core/errors.js';
import { modelFromPath } from '../../surfaces/gemini/decode.js';

const entry = (id: string, provider: string) => ({
  name: `models/${id}`,
  version: '001',
  displayName: id,
  description: `${id} served by cligate (${provider})`,
  inputTokenLimit: 200_000,
  outputTokenLimit: 64_000,
  supportedGenerationMethods: ['generateContent', 'streamGenerateContent', 'countTokens'],
});

export function geminiModelsRoutes(router: Router, limit: readonly RequestHandler[]) {
  const r = express.Router();
  r.get('/models', ...limit, async (_req, res) => {
    res.json({ models: (await router.listModels()).map((m) => entry(m.id, m.provider)) });
  });
  r.get('/models/:model', ...limit, (req, res, next) => {
    const id = modelFromPath(String(req.params.model));
    try {
      res.json(entry(id, router.resolve(id).provider.id));
    } catch {
      next(new NotFound(`Model 'models/${id}' is not found.`, { code: 'model_not_found' }));
    }
  });
  return r;
}
