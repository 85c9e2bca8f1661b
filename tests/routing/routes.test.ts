/** Model names across spellings, route parsing, route plans, and fallback before the first part. */
import { describe, expect, it } from 'vitest';
import { Router } from '../../src/routing/router.js';
import { globTest, nameVariants, sameModel } from '../../src/routing/names.js';
import { formatRoutes, parseRoutes } from '../../src/routing/routes.js';
import { firstToStart, mayTryNext } from '../../src/routing/fallback.js';
import type { Provider } from '../../src/core/provider.js';
import type { StreamPart } from '../../src/core/stream.js';
import { BadRequest, RateLimited, Unauthorized, Unavailable, UpstreamError, type CligateError } from '../../src/core/errors.js';

/** a provider serving exactly the listed names (as Kiro and Cloud Code do), or a pattern (as the CLIs do) */
function provider(id: string, models: string[], opts: { prefix?: string; pool?: boolean; enabled?: boolean } = {}): Provider {
  return {
    id,
    // a pool lists its models only while it has an enabled account (as Kiro's and Cloud Code's do)
    models: () => (opts.enabled === false ? [] : models.map((m) => ({ id: m, provider: id }))),
    handles: (m) => models.includes(m) || (opts.prefix !== undefined && m.startsWith(opts.prefix)),
    ...(opts.pool ? { pool: { hasEnabled: () => opts.enabled !== false, status: () => [], restore: () => {}, check: async () => ({ ok: true as const, detail: '' }) } } : {}),
    stream: () => {
      throw new Error('not used');
    },
  };
}

const kiro = provider('kiro', ['claude-sonnet-4.5', 'claude-haiku-4.5', 'claude-3.7-sonnet'], { pool: true });
const cloud = provider('cloudcode', ['claude-sonnet-4-5-thinking', 'gemini-3-pro-high'], { pool: true });
const cli = provider('claude-cli', ['claude-sonnet-4-5'], { prefix: 'claude-' });
const relay = provider('openai-compatible', ['gpt-relay', 'meta/llama-3']);

describe('model names as clients send them', () => {
  it.each([
    ['claude-sonnet-4-5-20250929', 'claude-sonnet-4.5'],
    ['claude-sonnet-4-5', 'claude-sonnet-4.5'],
    ['claude-haiku-4-5-20251001', 'claude-haiku-4.5'],
    ['claude-3-7-sonnet-20250219', 'claude-3.7-sonnet'],
    ['claude-3-7-sonnet-latest', 'claude-3.7-sonnet'],
    ['claude-sonnet-4-5@20250929', 'claude-sonnet-4.5'],
    ['claude-opus-4-8', 'claude-opus-4.8'],
  ])('%s is a spelling of %s', (sent, known) => {
    expect(sameModel(sent, known)).toBe(true);
    expect(nameVariants(sent)[0]).toBe(sent);
  });

  it.each([
    ['claude-sonnet-4-5', 'claude-sonnet-4'],
    ['claude-opus-4-20250514', 'claude-opus-4.0'],
    ['gemini-2.5-pro', 'gemini-2.5-flash'],
    ['claude-sonnet-4-5', 'claude-opus-4.5'],
  ])('%s is not %s', (a, b) => {
    expect(sameModel(a, b)).toBe(false);
  });

  it('globs match whole names', () => {
    expect(globTest('claude-sonnet-4-5*')('claude-sonnet-4-5-20250929')).toBe(true);
    expect(globTest('claude-sonnet-4-5*')('xclaude-sonnet-4-5')).toBe(false);
    expect(globTest('gpt-?')('gpt-5')).toBe(true);
    expect(globTest('gpt-?')('gpt-55')).toBe(false);
    expect(globTest('a.b')('axb')).toBe(false);
  });
});

describe('MODEL_ROUTES', () => {
  it('parses the one-line form and prints it back', () => {
    const line = 'claude-sonnet-4-5*=kiro/claude-sonnet-4.5,cloudcode/claude-sonnet-4-5-thinking,claude-cli; fast=openai-compatible/meta/llama-3';
    const routes = parseRoutes(line);
    expect(routes).toEqual([
      { match: 'claude-sonnet-4-5*', targets: ['kiro/claude-sonnet-4.5', 'cloudcode/claude-sonnet-4-5-thinking', 'claude-cli'] },
      { match: 'fast', targets: ['openai-compatible/meta/llama-3'] },
    ]);
    expect(parseRoutes(formatRoutes(routes))).toEqual(routes);
    expect(parseRoutes('')).toEqual([]);
  });

  it.each([
    ['no-equals', /not a route/],
    ['=kiro', /not a route/],
    ['a=', /not a route/],
    ['a b=kiro', /not a route/],
    ['a=kiro; a=claude-cli', /each match at most once/],
  ])('refuses %s', (line, why) => {
    expect(() => parseRoutes(line)).toThrow(why);
  });
});

describe('route plans', () => {
  const router = (routes = parseRoutes('claude-sonnet-4-5*=kiro/claude-sonnet-4.5,cloudcode/claude-sonnet-4-5-thinking,claude-cli; fast=openai-compatible/gpt-relay,nobody/x,kiro/gpt-relay')) =>
    new Router([relay, cloud, kiro, cli], { routes, aliases: { quick: 'fast' } });

  it("a route's targets in order, each asked for its own name; a provider alone gets the name sent", () => {
    const plan = router().plan('claude-sonnet-4-5-20250929');
    expect(plan.route?.match).toBe('claude-sonnet-4-5*');
    expect(plan.targets.map((t) => t.target)).toEqual(['kiro/claude-sonnet-4.5', 'cloudcode/claude-sonnet-4-5-thinking', 'claude-cli/claude-sonnet-4-5-20250929']);
  });

  it('a route matches any spelling, and keeps -progress for every target', () => {
    const plan = router().plan('claude-sonnet-4.5-progress');
    expect(plan.targets.map((t) => [t.target, t.progress])).toEqual([
      ['kiro/claude-sonnet-4.5', true],
      ['cloudcode/claude-sonnet-4-5-thinking', true],
      ['claude-cli/claude-sonnet-4.5', true],
    ]);
  });

  it('targets that are no provider or do not serve the model are left out, and said why', () => {
    const plan = router().plan('quick');
    expect(plan.targets.map((t) => t.target)).toEqual(['openai-compatible/gpt-relay']);
    expect(plan.skipped).toEqual([
      { target: 'nobody/x', why: "no provider 'nobody'" },
      { target: 'kiro/gpt-relay', why: "'kiro' does not serve it" },
    ]);
    expect(() => router(parseRoutes('x=kiro/gpt-relay')).plan('x')).toThrow(/route 'x' has no target that serves it: kiro\/gpt-relay/);
  });

  it('a route wins over a bare-name match; provider/model is never routed', () => {
    const r = router(parseRoutes('claude-haiku-4-5*=claude-cli'));
    expect(r.plan('claude-haiku-4-5').targets.map((t) => t.target)).toEqual(['claude-cli/claude-haiku-4-5']);
    expect(r.plan('kiro/claude-haiku-4-5-20251001').targets.map((t) => t.target)).toEqual(['kiro/claude-haiku-4.5']);
  });

  it('a bare name: every provider that lists a spelling of it, in order; each asked for the spelling it serves', () => {
    const r = router([]);
    expect(r.plan('claude-sonnet-4-5-20250929').targets.map((t) => t.target)).toEqual(['kiro/claude-sonnet-4.5', 'claude-cli/claude-sonnet-4-5-20250929']);
    // the claude CLI serves any claude-* name but lists only claude-sonnet-4-5: it is no fallback for others
    expect(r.plan('claude-haiku-4-5-20251001').targets.map((t) => t.target)).toEqual(['kiro/claude-haiku-4.5']);
    expect(r.plan('claude-sonnet-4-5-thinking').targets.map((t) => t.target)).toEqual(['cloudcode/claude-sonnet-4-5-thinking']);
    // a name nobody lists: the first provider whose pattern serves it
    expect(r.plan('claude-opus-4-8').targets.map((t) => t.target)).toEqual(['claude-cli/claude-opus-4-8']);
  });

  it('a pool with no enabled account does not claim bare names, unless the request brings its account or nothing else serves it', () => {
    const idle = provider('kiro', ['claude-sonnet-4.5', 'auto'], { pool: true, enabled: false });
    const r = new Router([idle, cli]);
    expect(r.plan('claude-sonnet-4-5').targets.map((t) => t.target)).toEqual(['claude-cli/claude-sonnet-4-5']);
    expect(r.plan('claude-sonnet-4-5', (p) => p.id === 'kiro').targets.map((t) => t.target)).toEqual(['kiro/claude-sonnet-4.5', 'claude-cli/claude-sonnet-4-5']);
    // its own error ("no kiro accounts") is better than a 404
    expect(r.plan('auto').targets.map((t) => t.target)).toEqual(['kiro/auto']);
  });

  it('/v1/models shows route names, served by their first target', () => {
    const ids = router().models();
    expect(ids).toContainEqual(expect.objectContaining({ id: 'fast', provider: 'openai-compatible' }));
    expect(ids).toContainEqual(expect.objectContaining({ id: 'claude-sonnet-4-5', provider: 'kiro' }));
  });
});

describe('fallback before the first part', () => {
  const route = (id: string) => new Router([provider(id, ['m'])]).resolve(`${id}/m`);
  const targets = [route('a'), route('b'), route('c')];
  const parts = (text: string): StreamPart[] => [{ type: 'text-delta', text }, { type: 'finish', reason: 'stop' }];
  async function* failing(err: CligateError, after: StreamPart[] = []): AsyncGenerator<StreamPart> {
    yield* after;
    throw err;
  }
  async function* ok(text: string): AsyncGenerator<StreamPart> {
    yield { type: 'keepalive' };
    yield* parts(text);
  }
  async function run(plan: Record<string, () => AsyncIterable<StreamPart>>, mayFallBack = () => true) {
    const log: string[] = [];
    const out: StreamPart[] = [];
    try {
      for await (const p of firstToStart(targets, async (r) => plan[r.provider.id]!(), {
        mayFallBack,
        onTry: (r) => log.push(`try ${r.target}`),
        onFail: (r, e, next) => log.push(`fail ${r.target} ${e.status}${next ? ' next' : ''}`),
      }))
        out.push(p);
    } catch (e) {
      log.push(`threw ${(e as CligateError).status}: ${(e as Error).message}`);
    }
    return { log, text: out.filter((p) => p.type === 'text-delta').map((p) => (p as { text: string }).text).join('') };
  }

  it('429, 5xx and a provider without credentials hand over; keepalives do not count as the start', async () => {
    const r = await run({ a: () => failing(new RateLimited('busy')), b: () => failing(new Unavailable('no accounts'), [{ type: 'keepalive' }]), c: () => ok('from c') });
    expect(r.text).toBe('from c');
    expect(r.log).toEqual(['try a/m', 'fail a/m 429 next', 'try b/m', 'fail b/m 503 next', 'try c/m']);
  });

  it('never after the first part: the error is the answer', async () => {
    const r = await run({ a: () => failing(new UpstreamError('broke'), [{ type: 'text-delta', text: 'half' }]), b: () => ok('b'), c: () => ok('c') });
    expect(r.text).toBe('half');
    expect(r.log).toEqual(['try a/m', 'threw 502: broke']);
  });

  it('never once anything went to the client', async () => {
    const r = await run({ a: () => failing(new RateLimited('busy')), b: () => ok('b'), c: () => ok('c') }, () => false);
    expect(r.log).toEqual(['try a/m', 'fail a/m 429', 'threw 429: busy']);
  });

  it("the client's mistakes are not retried elsewhere", async () => {
    const r = await run({ a: () => failing(new BadRequest('bad')), b: () => ok('b'), c: () => ok('c') });
    expect(r.log).toEqual(['try a/m', 'fail a/m 400', 'threw 400: bad']);
    expect(mayTryNext(new Unauthorized('no key', { code: 'invalid_api_key' }))).toBe(false);
    expect(mayTryNext(new Unauthorized('cli not logged in', { code: 'cli_auth_failed' }))).toBe(true);
  });

  it("all failing: the first target's error, naming what else was tried", async () => {
    const r = await run({ a: () => failing(new RateLimited('a is busy')), b: () => failing(new UpstreamError('b broke')), c: () => failing(new Unavailable('c is away')) });
    expect(r.log.at(-1)).toBe('threw 429: a is busy (tried in turn: a/m: 429 rate_limit_exceeded; b/m: 502 upstream_error; c/m: 503 unavailable)');
  });
});

describe('plans are kept per name while nothing they depend on changes', () => {
  it('the same plan again; a new one after the store, the aliases or the routes change', () => {
    let revision = 0;
    let aliases: Record<string, string> = {};
    let routes = parseRoutes('');
    const enabled = { kiro: true };
    const pool = provider('kiro', ['claude-sonnet-4.5'], { pool: true });
    const kiroLive: Provider = { ...pool, models: () => (enabled.kiro ? pool.models() : []), pool: { ...pool.pool!, hasEnabled: () => enabled.kiro } };
    const r = new Router([kiroLive, cli], { aliases: () => aliases, routes: () => routes, revision: () => revision });
    const first = r.plan('claude-sonnet-4-5');
    expect(first.targets.map((t) => t.target)).toEqual(['kiro/claude-sonnet-4.5', 'claude-cli/claude-sonnet-4-5']);
    expect(r.plan('claude-sonnet-4-5')).toBe(first);
    // the only Kiro account disabled: the store's revision moves on
    enabled.kiro = false;
    expect(r.plan('claude-sonnet-4-5')).toBe(first);
    revision++;
    expect(r.plan('claude-sonnet-4-5').targets.map((t) => t.target)).toEqual(['claude-cli/claude-sonnet-4-5']);
    aliases = { 'claude-sonnet-4-5': 'kiro/claude-sonnet-4.5' };
    expect(r.plan('claude-sonnet-4-5').targets.map((t) => t.target)).toEqual(['kiro/claude-sonnet-4.5']);
    routes = parseRoutes('quick=claude-cli/claude-sonnet-4-5');
    expect(r.plan('quick').targets.map((t) => t.target)).toEqual(['claude-cli/claude-sonnet-4-5']);
    // a request bringing its own account is planned afresh, and not kept
    expect(r.plan('claude-opus-4-8', (p) => p.id === 'kiro')).not.toBe(r.plan('claude-opus-4-8', (p) => p.id === 'kiro'));
  });
});
