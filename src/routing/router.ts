/**
 * Model name -> provider: the one place that holds routing rules.
 *
 * 1. `provider/model` always selects that provider (e.g. `claude-cli/claude-sonnet-4-5`).
 * 2. An alias (MODEL_ALIASES) is replaced by its target first; the target may itself be qualified.
 * 3. Suffixes (-progress, -thinking) are parsed off; -thinking stays part of the name for a
 *    provider that does not support reasoning but serves the longer name itself.
 * 4. A bare name goes to the first provider, in PROVIDER_ORDER, that serves it.
 */
import type { ModelInfo, Provider } from '../core/provider.js';
import { BadRequest, NotFound } from '../core/errors.js';
import { DEFAULT_THINKING_SUFFIX, parseModelSuffixes } from './suffixes.js';

export interface Route {
  provider: Provider;
  /** the name the provider is asked for: no qualifier, no alias, no routing suffix */
  model: string;
  progress: boolean;
  thinking: boolean;
}

export interface RouterOptions {
  /** alias -> target model name (a function: aliases editable while running) */
  aliases?: Record<string, string> | (() => Record<string, string>);
  /** provider ids in the order bare names are tried; unlisted providers follow in registration order */
  order?: readonly string[];
  /** the model-name suffix that turns reasoning on (default "-thinking") */
  thinkingSuffix?: string;
}

export class Router {
  private readonly providers: readonly Provider[];
  private readonly aliasSource: () => Record<string, string>;
  private readonly thinkingSuffix: string;

  constructor(providers: readonly Provider[], opts: RouterOptions = {}) {
    this.thinkingSuffix = opts.thinkingSuffix ?? DEFAULT_THINKING_SUFFIX;
    const rank = (p: Provider) => {
      const i = (opts.order ?? []).indexOf(p.id);
      return i === -1 ? Number.MAX_SAFE_INTEGER : i;
    };
    this.providers = [...providers].sort((a, b) => rank(a) - rank(b));
    const aliases = opts.aliases ?? {};
    this.aliasSource = typeof aliases === 'function' ? aliases : () => aliases;
  }

  get aliases(): Record<string, string> {
    return this.aliasSource();
  }

  all(): readonly Provider[] {
    return this.providers;
  }

  /** every model once by its bare name (the provider it routes to) and once qualified */
  models(): ModelInfo[] {
    const bare = new Map<string, ModelInfo>();
    const qualified: ModelInfo[] = [];
    for (const p of this.providers) {
      for (const m of p.models()) {
        if (!bare.has(m.id)) bare.set(m.id, m);
        qualified.push({ ...m, id: `${p.id}/${m.id}` });
      }
    }
    const aliases = Object.keys(this.aliases).flatMap((alias) => {
      try {
        return [{ id: alias, provider: this.resolve(alias).provider.id }];
      } catch {
        return [];
      }
    });
    return [...bare.values(), ...qualified, ...aliases];
  }

  /**
   * What /v1/models shows: the models of providers that are there (a CLI that is not
   * installed is left out), bare and qualified, each with its "-progress" variant where
   * the provider has one. Provider status probes are cached by the providers.
   */
  async listModels(): Promise<ModelInfo[]> {
    const present = new Set<string>();
    await Promise.all(
      this.providers.map(async (p) => {
        const s = p.status ? await p.status().catch(() => undefined) : { available: true };
        if (s?.available) present.add(p.id);
      }),
    );
    const out: ModelInfo[] = [];
    for (const m of this.models()) {
      const provider = this.providers.find((p) => p.id === m.provider);
      if (!provider || !present.has(provider.id)) continue;
      out.push(m);
      if (provider.progressVariants) out.push({ ...m, id: `${m.id}-progress` });
    }
    return out;
  }

  resolve(requested: string): Route {
    // control, format (zero-width, bidi overrides) and space characters make names that look
    // like another model's; none is part of any real model name
    if (requested.length > 256 || /[\p{Cc}\p{Cf}\p{Zs}\p{Zl}\p{Zp}\p{Cs}]/u.test(requested)) {
      throw new BadRequest(`The model name ${JSON.stringify(requested.slice(0, 80))}${requested.length > 80 ? '…' : ''} is not valid: at most 256 characters, no control, invisible or space characters.`, { code: 'invalid_model', param: 'model' });
    }
    const name = this.aliases[requested] ?? requested;
    const slash = name.indexOf('/');
    if (slash > 0) {
      const provider = this.providers.find((p) => p.id === name.slice(0, slash));
      if (provider) {
        const route = this.match(provider, name.slice(slash + 1));
        if (route) return route;
        throw this.notFound(requested, `provider '${provider.id}' does not serve '${name.slice(slash + 1)}'`);
      }
    }
    for (const provider of this.providers) {
      const route = this.match(provider, name);
      if (route) return route;
    }
    throw this.notFound(requested);
  }

  private match(provider: Provider, name: string): Route | undefined {
    const parsed = parseModelSuffixes(name, this.thinkingSuffix);
    const thinkingOk = provider.supportsThinking === true;
    // a provider without reasoning support may still serve the "-thinking" name as a model of its own
    const model = parsed.thinking && !thinkingOk ? `${parsed.base}${this.thinkingSuffix}` : parsed.base;
    if (!provider.handles(model)) return undefined;
    return { provider, model, progress: parsed.progress, thinking: parsed.thinking && thinkingOk };
  }

  private notFound(model: string, why?: string): NotFound {
    const known = [...new Set(this.models().map((m) => m.id))];
    return new NotFound(
      `The model '${model}' does not exist${why ? ` (${why})` : ' or no provider serves it'}. Available models: ${known.join(', ') || '(none)'}.`,
      { code: 'model_not_found', param: 'model' },
    );
  }
}
