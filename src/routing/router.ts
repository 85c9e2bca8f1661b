/**
 * Model name -> the providers that may serve it, in order: the one place that holds routing rules.
 *
 * 1. An alias (MODEL_ALIASES, stored aliases) is replaced by its target first.
 * 2. Suffixes (-progress, -thinking) are parsed off; -thinking stays part of the name for a
 *    provider that does not support reasoning but serves the longer name itself.
 * 3. `provider/model` selects that provider and only it (e.g. `claude-cli/claude-sonnet-4-5`).
 * 4. A route (MODEL_ROUTES, stored routes) whose name or glob matches gives its targets, in order.
 * 5. A bare name goes to every provider that lists it, in PROVIDER_ORDER, each the fallback of
 *    the one before (a pool lists its models only while it has an enabled account); a name no
 *    provider lists goes to the first whose pattern serves it (the CLIs: any claude-*, gemini-*, …).
 * A provider serves a name when it serves any of its spellings (names.ts): Claude Code's
 * `claude-sonnet-4-5-20250929` reaches Kiro's `claude-sonnet-4.5`.
 */
import type { ModelInfo, Provider } from '../core/provider.js';
import { BadRequest, NotFound } from '../core/errors.js';
import { DEFAULT_THINKING_SUFFIX, parseModelSuffixes } from './suffixes.js';
import { globTest, nameVariants, sameModel } from './names.js';
import type { ModelRoute } from './routes.js';

export interface Route {
  provider: Provider;
  /** the name the provider is asked for: no qualifier, no alias, no routing suffix */
  model: string;
  progress: boolean;
  thinking: boolean;
  /** `provider/model`, as headers and logs name it */
  target: string;
}

export interface RoutePlan {
  /** the name the client sent */
  requested: string;
  /** the configured route that matched, if one did */
  route?: ModelRoute;
  /** what will be tried, in order */
  targets: Route[];
  /** route targets left out, and why (not a provider, does not serve the name) */
  skipped: { target: string; why: string }[];
}

/** one route as the console shows it: each target and whether it could serve right now */
export interface RouteReadiness {
  match: string;
  source: 'stored' | 'environment';
  targets: { target: string; ready: boolean; detail: string }[];
  /** the target that would serve a request now, if any */
  serving?: string;
}

/** a model as /v1/models lists it: whether something can serve it now, and if not why */
export interface ListedModel extends ModelInfo {
  available: boolean;
  reason?: string;
}

/** whether a provider could take a request now, and in a few words why (not) */
export interface Readiness {
  ready: boolean;
  detail: string;
}

export interface RouterOptions {
  /** alias -> target model name (a function: aliases editable while running) */
  aliases?: Record<string, string> | (() => Record<string, string>);
  /** model routes, first match wins (a function: routes editable while running) */
  routes?: readonly ModelRoute[] | (() => readonly ModelRoute[]);
  /** provider ids in the order bare names are tried; unlisted providers follow in registration order */
  order?: readonly string[];
  /** the model-name suffix that turns reasoning on (default "-thinking") */
  thinkingSuffix?: string;
  /**
   * whether a provider could answer now (a CLI installed and logged in, a pool with a usable
   * account, an upstream configured): providers/status-view.ts; without it every provider is ready
   */
  readiness?: (p: Provider) => Promise<Readiness>;
  /**
   * changes whenever what providers list changes (the account store's revision: accounts
   * enabled, model lists edited); plans are kept per name while it, the aliases and the routes stay
   */
  revision?: () => unknown;
}

/** plans kept per model name: a request's routing is a map lookup, not a walk over every provider */
const PLAN_CACHE_MAX = 1000;

export class Router {
  private readonly providers: readonly Provider[];
  private readonly aliasSource: () => Record<string, string>;
  private readonly routeSource: () => readonly ModelRoute[];
  private readonly thinkingSuffix: string;
  /** compiled globs, kept while the route list is the same object */
  private compiled: { from: readonly ModelRoute[]; tests: ((name: string) => boolean)[] } | undefined;
  private readonly revision: () => unknown;
  private readonly readinessOf: (p: Provider) => Promise<Readiness>;
  private cache: { aliases: unknown; routes: unknown; revision: unknown; plans: Map<string, RoutePlan> } | undefined;

  constructor(providers: readonly Provider[], opts: RouterOptions = {}) {
    this.thinkingSuffix = opts.thinkingSuffix ?? DEFAULT_THINKING_SUFFIX;
    const rank = (p: Provider) => {
      const i = (opts.order ?? []).indexOf(p.id);
      return i === -1 ? Number.MAX_SAFE_INTEGER : i;
    };
    this.providers = [...providers].sort((a, b) => rank(a) - rank(b));
    const aliases = opts.aliases ?? {};
    this.aliasSource = typeof aliases === 'function' ? aliases : () => aliases;
    const routes = opts.routes ?? [];
    this.routeSource = typeof routes === 'function' ? routes : () => routes;
    this.revision = opts.revision ?? (() => undefined);
    this.readinessOf = opts.readiness ?? (async () => ({ ready: true, detail: 'ready' }));
  }

  /** the plans of this moment: dropped when the aliases, the routes or the store have changed */
  private plans(): Map<string, RoutePlan> {
    const aliases = this.aliasSource();
    const routes = this.routeSource();
    const revision = this.revision();
    const c = this.cache;
    if (c && c.aliases === aliases && c.routes === routes && c.revision === revision && c.plans.size < PLAN_CACHE_MAX) return c.plans;
    this.cache = { aliases, routes, revision, plans: new Map() };
    return this.cache.plans;
  }

  get aliases(): Record<string, string> {
    return this.aliasSource();
  }

  get routes(): readonly ModelRoute[] {
    return this.routeSource();
  }

  all(): readonly Provider[] {
    return this.providers;
  }

  provider(id: string): Provider | undefined {
    return this.providers.find((p) => p.id === id);
  }

  /** every model once by its bare name (the provider it routes to first) and once qualified; route and alias names too */
  models(): ModelInfo[] {
    const bare = new Map<string, ModelInfo>();
    const qualified: ModelInfo[] = [];
    for (const p of this.providers) {
      for (const m of p.models()) {
        if (!bare.has(m.id)) bare.set(m.id, m);
        qualified.push({ ...m, id: `${p.id}/${m.id}` });
      }
    }
    const named = [...this.routes.filter((r) => !/[*?]/.test(r.match)).map((r) => r.match), ...Object.keys(this.aliases)];
    for (const name of [...bare.keys(), ...named]) {
      const first = this.firstTarget(name);
      if (first) bare.set(name, { ...(bare.get(name) ?? { id: name }), id: name, provider: first });
    }
    return [...bare.values(), ...qualified];
  }

  private firstTarget(name: string): string | undefined {
    const plan = this.tryPlan(name, () => false);
    return 'targets' in plan ? plan.targets[0]?.provider.id : undefined;
  }

  /**
   * What /v1/models shows: the models something can serve now, bare and qualified, each with its
   * "-progress" variant where the provider has one. A name is servable when one of the targets it
   * routes to is ready: a CLI installed and logged in, a pool with a usable account, an upstream
   * configured (provider status probes are cached by the providers). A bare, route or alias name is
   * owned by its first ready target. `all`: the rest too, marked `available: false` with the reason
   * of the target it would try first.
   */
  async listModels(opts: { all?: boolean } = {}): Promise<ListedModel[]> {
    const ready = this.readyOf();
    const out: ListedModel[] = [];
    for (const m of this.models()) {
      const listed = await this.availability(m, ready);
      if (!listed || (!listed.available && !opts.all)) continue;
      out.push(listed);
      if (this.provider(listed.provider)?.progressVariants) out.push({ ...listed, id: `${m.id}-progress` });
    }
    return out;
  }

  /** one name as the model list shows it (GET /v1/models/{id}): listed or served by pattern, with whether it can answer now */
  async modelStatus(id: string): Promise<ListedModel | undefined> {
    const ready = this.readyOf();
    const known = this.models().find((m) => m.id === id);
    if (known) return this.availability(known, ready);
    let first: Route | undefined;
    try {
      first = this.plan(id).targets[0]; // a name that is not valid, or that nothing serves, throws
    } catch {
      return undefined;
    }
    return first ? this.availability({ id, provider: first.provider.id }, ready) : undefined;
  }

  /** the first ready target of a listed name, or why its first target cannot serve */
  private async availability(m: ModelInfo, ready: (p: Provider) => Promise<Readiness>): Promise<ListedModel | undefined> {
    const slash = m.id.indexOf('/');
    const qualified = slash > 0 && this.provider(m.id.slice(0, slash)) !== undefined;
    const plan = qualified ? undefined : this.tryPlan(m.id, () => false);
    const targets = plan && 'targets' in plan ? plan.targets.map((t) => t.provider) : [this.provider(m.provider)].filter((p): p is Provider => p !== undefined);
    if (!targets.length) return undefined;
    let first: Readiness | undefined;
    for (const p of targets) {
      const r = await ready(p);
      if (r.ready) return { ...m, provider: p.id, available: true };
      first ??= r;
    }
    return { ...m, provider: targets[0]!.id, available: false, ...(first?.detail ? { reason: first.detail } : {}) };
  }

  /** each provider's readiness, asked once per listing */
  private readyOf(): (p: Provider) => Promise<Readiness> {
    const memo = new Map<string, Promise<Readiness>>();
    return (p) => {
      let r = memo.get(p.id);
      if (!r) memo.set(p.id, (r = this.readinessOf(p).catch((e: unknown) => ({ ready: false, detail: `status check failed: ${(e as Error).message}` }))));
      return r;
    };
  }

  /** the first target (what a request without fallback, e.g. a token count, uses) */
  resolve(requested: string): Route {
    return this.plan(requested).targets[0]!;
  }

  /**
   * every target for a model name, in the order they are tried; throws 404 when nothing serves it.
   * `brings(provider)`: the request carries its own account for that provider (stateless gateway mode).
   */
  plan(requested: string, brings?: (p: Provider) => boolean): RoutePlan {
    // a request that brings its own account may make a pool claim a name it would not: not kept
    const plans = brings ? undefined : this.plans();
    const kept = plans?.get(requested);
    if (kept) return kept;
    // control, format (zero-width, bidi overrides) and space characters make names that look
    // like another model's; none is part of any real model name
    if (requested.length > 256 || /[\p{Cc}\p{Cf}\p{Zs}\p{Zl}\p{Zp}\p{Cs}]/u.test(requested)) {
      throw new BadRequest(`The model name ${JSON.stringify(requested.slice(0, 80))}${requested.length > 80 ? '…' : ''} is not valid: at most 256 characters, no control, invisible or space characters.`, { code: 'invalid_model', param: 'model' });
    }
    const plan = this.tryPlan(requested, brings ?? (() => false));
    if (!('targets' in plan)) throw this.notFound(requested, plan.why);
    plans?.set(requested, plan);
    return plan;
  }

  /** the plan, or why there is none (no throw: the model list asks this of every name) */
  private tryPlan(requested: string, brings: (p: Provider) => boolean): RoutePlan | { why?: string } {
    const name = this.aliases[requested] ?? requested;
    const slash = name.indexOf('/');
    if (slash > 0) {
      const provider = this.provider(name.slice(0, slash));
      if (provider) {
        const route = this.match(provider, name.slice(slash + 1));
        if (route) return { requested, targets: [route], skipped: [] };
        return { why: `provider '${provider.id}' does not serve '${name.slice(slash + 1)}'` };
      }
    }
    const route = this.routeFor(name);
    if (route) return this.planRoute(requested, name, route);
    const matched = this.providers.flatMap((p) => {
      const r = this.match(p, name);
      return r ? [r] : [];
    });
    if (!matched.length) return {};
    // the providers that list the name (in any spelling) each fall back to the next; a pool lists
    // its models only while it has an enabled account, unless the request brings its own
    const listing = matched.filter((r) => r.provider.models().some((m) => sameModel(m.id, r.model)) || brings(r.provider));
    if (listing.length) return { requested, targets: listing, skipped: [] };
    // a name nobody lists: the first provider whose pattern serves it (the CLIs take any claude-*,
    // gemini-*, gpt-* name), a pool without accounts only when nothing else does (its error says what to add)
    const usable = matched.find((r) => !r.provider.pool || r.provider.pool.hasEnabled());
    return { requested, targets: [usable ?? matched[0]!], skipped: [] };
  }

  /** the first route whose name or glob matches any spelling of the name (suffixes off) */
  private routeFor(name: string): ModelRoute | undefined {
    const routes = this.routes;
    if (!routes.length) return undefined;
    if (this.compiled?.from !== routes) this.compiled = { from: routes, tests: routes.map((r) => globTest(r.match)) };
    const { base } = parseModelSuffixes(name, this.thinkingSuffix);
    const names = [name, ...nameVariants(base)];
    const i = this.compiled.tests.findIndex((test) => names.some(test));
    return i === -1 ? undefined : routes[i];
  }

  private planRoute(requested: string, name: string, route: ModelRoute): RoutePlan | { why: string } {
    const { progress, thinking } = parseModelSuffixes(name, this.thinkingSuffix);
    const suffix = `${thinking ? this.thinkingSuffix : ''}${progress ? '-progress' : ''}`;
    const targets: Route[] = [];
    const skipped: RoutePlan['skipped'] = [];
    for (const target of route.targets) {
      const slash = target.indexOf('/');
      const id = slash > 0 ? target.slice(0, slash) : target;
      const provider = this.provider(id);
      if (!provider) {
        skipped.push({ target, why: `no provider '${id}'` });
        continue;
      }
      // "provider" alone: that provider asked for the name the client sent
      const r = this.match(provider, slash > 0 ? `${target.slice(slash + 1)}${suffix}` : name);
      if (r) targets.push(r);
      else skipped.push({ target, why: `'${id}' does not serve it` });
    }
    if (!targets.length) return { why: `route '${route.match}' has no target that serves it: ${skipped.map((s) => `${s.target} (${s.why})`).join(', ')}` };
    return { requested, route, targets, skipped };
  }

  private match(provider: Provider, name: string): Route | undefined {
    const parsed = parseModelSuffixes(name, this.thinkingSuffix);
    const thinkingOk = provider.supportsThinking === true;
    // a provider without reasoning support may still serve the "-thinking" name as a model of its own
    const base = parsed.thinking && !thinkingOk ? `${parsed.base}${this.thinkingSuffix}` : parsed.base;
    const model = nameVariants(base).find((v) => provider.handles(v));
    if (model === undefined) return undefined;
    return { provider, model, progress: parsed.progress, thinking: parsed.thinking && thinkingOk, target: `${provider.id}/${model}` };
  }

  /**
   * Each route with its targets' readiness now, as `readyOf` judges a provider (a pool needs a
   * usable account, a CLI to be installed and logged in: providers/status-view.ts).
   */
  async readiness(stored: readonly ModelRoute[], readyOf: (p: Provider) => Promise<Readiness> = this.readinessOf): Promise<RouteReadiness[]> {
    const ready = new Map<string, Promise<{ ready: boolean; detail: string }>>();
    const providerReady = (p: Provider) => {
      let r = ready.get(p.id);
      if (!r) ready.set(p.id, (r = readyOf(p)));
      return r;
    };
    const storedMatches = new Set(stored.map((r) => r.match));
    return Promise.all(
      this.routes.map(async (route) => {
        const targets = await Promise.all(
          route.targets.map(async (target) => {
            const id = target.split('/')[0]!;
            const provider = this.provider(id);
            if (!provider) return { target, ready: false, detail: `no provider '${id}'` };
            const { ready, detail } = await providerReady(provider);
            return { target, ready, detail };
          }),
        );
        const serving = targets.find((t) => t.ready)?.target;
        return { match: route.match, source: storedMatches.has(route.match) ? ('stored' as const) : ('environment' as const), targets, ...(serving ? { serving } : {}) };
      }),
    );
  }

  private notFound(model: string, why?: string): NotFound {
    const known = [...new Set(this.models().map((m) => m.id))];
    return new NotFound(
      `The model '${model}' does not exist${why ? ` (${why})` : ' or no provider serves it'}. Available models: ${known.join(', ') || '(none)'}.`,
      { code: 'model_not_found', param: 'model' },
    );
  }
}
