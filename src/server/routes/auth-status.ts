import type { Request, Response } from 'express';
import type { AppDeps } from '../app-deps.js';

export function authStatusRoute(deps: AppDeps) {
  return async (_req: Request, res: Response) => {
    const providers = await Promise.all(
      deps.router.all().map(async (p) => (p.status ? p.status() : { id: p.id, available: true, detail: {} })),
    );
    res.json({
      server: { apiKeyRequired: Boolean(deps.config.API_KEY) },
      providers,
    });
  };
}
