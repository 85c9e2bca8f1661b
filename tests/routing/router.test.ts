/** Routing: bare names, qualified names, aliases, order, suffixes, unknown models. */
import { describe, expect, it } from 'vitest';
import { Router } from '../../src/routing/router.js';
import { parseModelSuffixes } from '../../src/routing/suffixes.js';
import type { Provider } from '../../src/core/provider.js';

function provider(id: string, prefix: string, models: string[], supportsThinking = false): Provider {
  return {
    id,
    supportsThinking,
    models: () => models.map((m) => ({ id: m, provider: id })),
    handles: (m) => m.startsWith(prefix) || models.includes(m),
    stream: () => {
      throw new Error('not used');
    },
  };
}

const claudeCli = provider('claude-cli', 'claude-', ['claude-sonnet-4-5'], false);
const kiro = provider('kiro', 'claude-', ['claude-sonnet-4.5'], true);
const cloud = provider('cloudcode', 'claude-', ['claude-opus-4-5-thinking'], false);

describe('parseModelSuffixes', () => {
  it.each([
    ['claude-sonnet-4-5', 'claude-sonnet-4-5', false, false],
    ['claude-sonnet-4-5-progress', 'claude-sonnet-4-5', true, false],
    ['claude-sonnet-4-5-thinking', 'claude-sonnet-4-5', false, true],
    ['claude-sonnet-4-5-thinking-progress', 'claude-sonnet-4-5', true, true],
    ['claude-sonnet-4-5-progress-thinking', 'claude-sonnet-4-5', true, true],
    ['-progress', '-progress', false, false],
  ])('%s', (name, base, progress, thinking) => {
    expect(parseModelSuffixes(name)).toEqual({ base, progress, thinking });
  });
});

describe('Router', () => {
  it('a bare name goes to the first provider that serves it; PROVIDER_ORDER changes that', () => {
    expect(new Router([claudeCli, kiro]).resolve('claude-sonnet-4-5').provider.id).toBe('claude-cli');
    expect(new Router([claudeCli, kiro], { order: ['kiro'] }).resolve('claude-sonnet-4-5').provider.id).toBe('kiro');
  });

  it('provider/model always selects that provider, and the provider gets the bare name', () => {
    const r = new Router([claudeCli, kiro]);
    const route = r.resolve('kiro/claude-sonnet-4.5');
    expect(route.provider.id).toBe('kiro');
    expect(route.model).toBe('claude-sonnet-4.5');
    expect(() => r.resolve('kiro/gpt-4o')).toThrow(/provider 'kiro' does not serve 'gpt-4o'/);
  });

  it('aliases resolve first, and may be qualified', () => {
    const r = new Router([claudeCli, kiro], { aliases: { fast: 'kiro/claude-haiku-4.5', default: 'claude-sonnet-4-5' } });
    expect(r.resolve('fast')).toMatchObject({ model: 'claude-haiku-4.5', provider: { id: 'kiro' } });
    expect(r.resolve('default').provider.id).toBe('claude-cli');
    expect(r.models().map((m) => m.id)).toEqual(expect.arrayContaining(['fast', 'default']));
  });

  it('suffixes: -progress always parsed; -thinking only stripped for providers with reasoning', () => {
    const r = new Router([kiro, cloud]);
    expect(r.resolve('claude-sonnet-4.5-thinking-progress')).toMatchObject({ model: 'claude-sonnet-4.5', thinking: true, progress: true });
    // cloudcode serves "-thinking" names as models of their own
    const c = r.resolve('cloudcode/claude-opus-4-5-thinking');
    expect(c).toMatchObject({ model: 'claude-opus-4-5-thinking', thinking: false, progress: false });
  });

  it('lists bare and qualified names', () => {
    const ids = new Router([claudeCli, kiro]).models().map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(['claude-sonnet-4-5', 'claude-sonnet-4.5', 'claude-cli/claude-sonnet-4-5', 'kiro/claude-sonnet-4.5']));
  });

  it('unknown model: 404 model_not_found naming the models that exist', () => {
    const err = (() => {
      try {
        new Router([claudeCli]).resolve('gpt-9');
      } catch (e) {
        return e as { status: number; code: string; message: string };
      }
    })();
    expect(err).toMatchObject({ status: 404, code: 'model_not_found' });
    expect(err?.message).toMatch(/claude-sonnet-4-5/);
  });
});
