/** The Cloud Code signature cache: keys by family and conversation, bounds, lifetime, sharing. */
import { describe, expect, it } from 'vitest';
import { familyOf, SignatureCache, type SignatureScope, type TurnRecord } from '../../../src/providers/cloudcode/signatures.js';
import type { SharedState } from '../../../src/state/shared-state.js';

const claude: SignatureScope = { family: 'claude', conversation: 'conv-1' };
const gemini: SignatureScope = { family: 'gemini', conversation: 'conv-1' };
const record = (text: string, signature = `sig-${text}`): TurnRecord => ({ thinking: [{ text, signature }] });

/** a Redis-kind SharedState over a Map, recording lifetimes */
function sharedStub(kind: 'redis' | 'memory' = 'redis') {
  const values = new Map<string, { value: string; ttlMs: number | undefined }>();
  const state = {
    kind,
    values,
    async getJson<T>(key: string): Promise<T | undefined> {
      const v = values.get(key);
      return v ? (JSON.parse(v.value) as T) : undefined;
    },
    async setJson(key: string, value: unknown, ttlMs?: number): Promise<void> {
      values.set(key, { value: JSON.stringify(value), ttlMs });
    },
  };
  return state as typeof state & SharedState;
}

describe('SignatureCache', () => {
  it('model families: "claude-…" and "gemini-…"', () => {
    expect(familyOf('claude-sonnet-4-5-thinking')).toBe('claude');
    expect(familyOf('gemini-3-pro-high')).toBe('gemini');
  });

  it('a turn is found only in its family and conversation', async () => {
    const c = new SignatureCache();
    await c.saveTurn(claude, ['toolu_1'], record('claude thinking'));
    expect(await c.turn(claude, 'toolu_1')).toEqual(record('claude thinking'));
    expect(await c.turn(gemini, 'toolu_1')).toBeUndefined();
    expect(await c.turn({ ...claude, conversation: 'conv-2' }, 'toolu_1')).toBeUndefined();
    expect(c.localTurn(claude, 'toolu_1')).toEqual(record('claude thinking'));
  });

  it('the same thinking text in two families or conversations keeps each signature', () => {
    const c = new SignatureCache();
    c.forThinking(claude, [{ text: 'same', signature: 'claude-sig' }]);
    c.forThinking(gemini, [{ text: 'same', signature: 'gemini-sig' }]);
    c.forThinking({ ...claude, conversation: 'conv-2' }, [{ text: 'same', signature: 'other-conv-sig' }]);
    expect(c.thinking(claude, 'same')).toEqual([{ text: 'same', signature: 'claude-sig' }]);
    expect(c.thinking(gemini, 'same')).toEqual([{ text: 'same', signature: 'gemini-sig' }]);
    expect(c.thinking({ ...claude, conversation: 'conv-2' }, 'same')).toEqual([{ text: 'same', signature: 'other-conv-sig' }]);
  });

  it('several signed blocks are found by their text joined', () => {
    const c = new SignatureCache();
    const blocks = [
      { text: 'first. ', signature: 's1' },
      { text: 'second.', signature: 's2' },
    ];
    c.forThinking(claude, blocks);
    expect(c.thinking(claude, 'first. second.')).toEqual(blocks);
  });

  it('bounded by entries: the least recently used goes first', async () => {
    const c = new SignatureCache({ maxEntries: 3 });
    for (const id of ['a', 'b', 'c']) await c.saveTurn(claude, [id], record(id));
    c.localTurn(claude, 'a'); // used: now the newest
    await c.saveTurn(claude, ['d'], record('d'));
    expect(c.size.entries).toBe(3);
    expect(c.localTurn(claude, 'b')).toBeUndefined();
    for (const id of ['a', 'c', 'd']) expect(c.localTurn(claude, id)).toBeDefined();
  });

  it('bounded by characters: long thinking pushes older entries out; one larger than the bound is not kept', async () => {
    const c = new SignatureCache({ maxChars: 5_000 });
    await c.saveTurn(claude, ['old'], record('x'.repeat(2_000)));
    await c.saveTurn(claude, ['mid'], record('y'.repeat(2_000)));
    await c.saveTurn(claude, ['new'], record('z'.repeat(2_000)));
    expect(c.localTurn(claude, 'old')).toBeUndefined();
    expect(c.localTurn(claude, 'new')).toBeDefined();
    expect(c.size.chars).toBeLessThanOrEqual(5_000);
    await c.saveTurn(claude, ['huge'], record('h'.repeat(6_000)));
    expect(c.localTurn(claude, 'huge')).toBeUndefined();
    expect(c.size.chars).toBeLessThanOrEqual(5_000);
  });

  it('entries expire after the lifetime', async () => {
    let now = 1_000;
    const c = new SignatureCache({ ttlMs: 60_000, now: () => now });
    await c.saveTurn(claude, ['t'], record('t'));
    c.forThinking(claude, [{ text: 't', signature: 's' }]);
    now += 59_999;
    expect(c.localTurn(claude, 't')).toBeDefined();
    now += 1;
    expect(c.localTurn(claude, 't')).toBeUndefined();
    expect(c.thinking(claude, 't')).toBeUndefined();
    expect(c.size.entries).toBe(0);
  });

  it('Redis: turns are written with the lifetime and found by another instance, which keeps a copy', async () => {
    const redis = sharedStub();
    const one = new SignatureCache({ shared: redis, ttlMs: 90_000 });
    const two = new SignatureCache({ shared: redis });
    expect(one.shared).toBe(true);
    await one.saveTurn(claude, ['toolu_a', 'toolu_b'], record('shared'));
    expect([...redis.values.keys()].every((k) => k.startsWith('cloudcode:turn:claude:'))).toBe(true);
    expect([...redis.values.values()].map((v) => v.ttlMs)).toEqual([90_000, 90_000]);
    expect(two.localTurn(claude, 'toolu_b')).toBeUndefined();
    expect(await two.turn(claude, 'toolu_b')).toEqual(record('shared'));
    expect(two.localTurn(claude, 'toolu_b')).toEqual(record('shared'));
    expect(await two.turn(gemini, 'toolu_b')).toBeUndefined();
  });

  it('the memory SharedState is not written (it has no size bound; this process has its own LRU)', async () => {
    const memory = sharedStub('memory');
    const c = new SignatureCache({ shared: memory });
    expect(c.shared).toBe(false);
    await c.saveTurn(claude, ['toolu_m'], record('m'));
    expect(memory.values.size).toBe(0);
    expect(await c.turn(claude, 'toolu_m')).toEqual(record('m'));
  });
});
