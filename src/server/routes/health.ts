import type { Request, Response } from 'express';
import type { AppDeps } from '../app-deps.js';
import type { InFlight } from '../inflight.js';
import { liveProcessCount } from '../../runtime/process.js';
import { liveSandboxes } from '../../runtime/sandbox.js';

const started = Date.now();

export function healthRoute(deps: AppDeps, inflight: InFlight) {
  return (_req: Request, res: Response) => {
    const draining = deps.isDraining?.() ?? false;
    res.status(draining ? 503 : 200).json({
      status: draining ? 'draining' : 'ok',
      uptimeSeconds: Math.round((Date.now() - started) / 1000),
      requestsInFlight: inflight.size,
      workers: deps.pool.stats(),
      ...(deps.warm ? { warm: deps.warm.stats() } : {}),
      cliProcesses: liveProcessCount(),
      sandboxes: liveSandboxes().length,
      providers: deps.router.all().map((p) => p.id),
      // several instances: 'degraded' while Redis is away (the instance still serves, from its own memory)
      ...(deps.shared?.health ? { redis: deps.shared.health() } : {}),
    });
  };
}
