/** Model name -> provider. The only place that knows which provider serves what. */
import type { ModelInfo, Provider } from '../core/provider.js';
import { NotFound } from '../core/errors.js';

export class Router {
  constructor(private readonly providers: readonly Provider[]) {}

  all(): readonly Provider[] {
    return this.providers;
  }

  models(): ModelInfo[] {
    return this.providers.flatMap((p) => p.models());
  }

  resolve(model: string): Provider {
    const provider = this.providers.find((p) => p.handles(model));
    if (provider) return provider;
    const known = this.models().map((m) => m.id);
    throw new NotFound(
      `The model '${model}' does not exist or no provider serves it. Available models: ${known.join(', ') || '(none)'}.`,
      { code: 'model_not_found', param: 'model' },
    );
  }
}
