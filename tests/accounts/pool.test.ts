/** The account pool: selection, health, failover, single-flight refresh. */
import { describe, expect, it } from 'vitest';
import type { StreamPart } from '../../src/core/stream.js';
import { CligateError, RateLimited, Unauthorized, UpstreamError, BadRequest } from '../../src/core/errors.js';
import { AccountStore } from '../../src/accounts/store.js';
import { AccountPool } from '../../src/accounts/pool.js';
import { HealthBook } from '../../src/accounts/health.js';
import type { Strategy } from '../../src/accounts/types.js';

const log = { debug() {}, info() {}, warn() {}, error() {} };
const ctx = () => ({ signal: new AbortController().signal, requestId: 'r', log });

function setup(strategy: Strategy, accounts: { id: string; weight?: number; enabled?: boolean }[], extra: { random?: () => number; maxAttempts?: number } = {}) {
  let now = 1_000_000;
  const store = AccountStore.memory({
    providers: { p: { strategy, ...(extra.maxAttempts !== undefined ? { maxAttempts: extra.maxAttempts } : {}) } },
    accounts: accounts.map((a) => ({ provider: 'p', credentials: { token: `secret-${a.id}` }, ...a })) as never,
  });
  const pool = new AccountPool({
    provider: 'p',
    store,
    health: { baseMs: 1000, maxMs: 8000, now: () => now },
    defaultStrategy: 'round-robin',
    defaultMaxAttempts: 0,
    ...(extra.random ? { random: extra.random } : {}),
  });
  return { pool, store, advance: (ms: number) => (now += ms) };
}

/** runs one request; `behave` says what each account does */
async function request(pool: AccountPool, behave: (id: string) => CligateError | string, sessionKey?: string): Promise<{ used: string[]; text: string }> {
  const used: string[] = [];
  let text = '';
  for await (const part of pool.stream(ctx(), sessionKey, (a) =>
    (async function* (): AsyncGenerator<StreamPart> {
      used.push(a.id);
      const b = behave(a.id);
      if (b instanceof CligateError) throw b;
      yield { type: 'text-delta', text: b };
    })(),
  ))
    if (part.type === 'text-delta') text += part.text;
  return { used, text };
}

const ok = (id: string) => `from ${id}`;

describe('selection', () => {
  it('round-robin goes through the accounts in store order, skipping disabled ones', async () => {
    const { pool } = setup('round-robin', [{ id: 'a' }, { id: 'b', enabled: false }, { id: 'c' }]);
    const order: string[] = [];
    for (let i = 0; i < 4; i++) order.push(...(await request(pool, ok)).used);
    expect(order).toEqual(['a', 'c', 'a', 'c']);
  });

  it('weighted random follows the weights', async () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const { pool } = setup('weighted', [{ id: 'heavy', weight: 300 }, { id: 'light', weight: 100 }, { id: 'none', weight: 0 }], { random });
    const count: Record<string, number> = {};
    for (let i = 0; i < 4000; i++) for (const id of (await request(pool, ok)).used) count[id] = (count[id] ?? 0) + 1;
    expect(count.none).toBeUndefined();
    expect(count.heavy! / count.light!).toBeGreaterThan(2.6);
    expect(count.heavy! / count.light!).toBeLessThan(3.4);
  });

  it('sticky keeps a session on its account while healthy, then moves it and keeps it there', async () => {
    const { pool } = setup('sticky', [{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    const s1 = (await request(pool, ok, 'conv-1')).used[0];
    const s2 = (await request(pool, ok, 'conv-2')).used[0];
    expect(s1).not.toBe(s2);
    for (let i = 0; i < 3; i++) expect((await request(pool, ok, 'conv-1')).used).toEqual([s1]);
    const moved = await request(pool, (id) => (id === s1 ? new RateLimited('slow down', { retryAfter: 60 }) : ok(id)), 'conv-1');
    expect(moved.used[0]).toBe(s1);
    const to = moved.used[1]!;
    expect((await request(pool, ok, 'conv-1')).used).toEqual([to]);
  });
});

describe('health and failover', () => {
  it('a 429 with retry-after cools the account exactly that long, then it comes back by itself', async () => {
    const { pool, advance } = setup('round-robin', [{ id: 'a' }, { id: 'b' }]);
    const r = await request(pool, (id) => (id === 'a' ? new RateLimited('limited', { retryAfter: 30 }) : ok(id)));
    expect(r).toEqual({ used: ['a', 'b'], text: 'from b' });
    expect(pool.health.waitMs('a')).toBe(30_000);
    expect(pool.usable().map((a) => a.id)).toEqual(['b']);
    advance(29_999);
    expect(pool.usable().map((a) => a.id)).toEqual(['b']);
    advance(1);
    expect(pool.usable().map((a) => a.id)).toEqual(['a', 'b']);
  });

  it('without retry-after the ladder doubles from 1 s and stops at the cap; success resets it', () => {
    let now = 0;
    const h = new HealthBook({ baseMs: 1000, maxMs: 8000, now: () => now });
    expect([1, 2, 3, 4, 5, 6].map(() => h.cool('x', 'e'))).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
    h.succeeded('x');
    expect(h.cool('x', 'e')).toBe(1000);
    // a known reset time wins over the ladder
    now = 0;
    h.cool('y', 'e');
    h.cool('y', 'e');
    expect(h.cool('y', 'e', { resetAt: 1500 })).toBe(1500);
  });

  it('an auth failure takes the account out of rotation with its reason, persisted in the store', async () => {
    const { pool, store } = setup('round-robin', [{ id: 'a' }, { id: 'b' }]);
    const r = await request(pool, (id) => (id === 'a' ? new Unauthorized('cookie expired') : ok(id)));
    expect(r.used).toEqual(['a', 'b']);
    await new Promise((res) => setTimeout(res, 10));
    expect(store.get('a')!.disabledReason).toBe('cookie expired');
    expect(pool.status().find((s) => s.id === 'a')).toMatchObject({ usable: false, health: { unavailable: 'cookie expired' } });
    for (let i = 0; i < 3; i++) expect((await request(pool, ok)).used).toEqual(['b']);
  });

  it('fails over in order up to maxAttempts, then fails with the last error', async () => {
    const { pool } = setup('round-robin', [{ id: 'a' }, { id: 'b' }, { id: 'c' }, { id: 'd' }], { maxAttempts: 3 });
    const used: string[] = [];
    const err = await request(pool, (id) => {
      used.push(id);
      return new UpstreamError(`boom ${id}`, { status: 502 });
    }).catch((e: unknown) => e);
    expect(used).toEqual(['a', 'b', 'c']);
    expect(err).toBeInstanceOf(RateLimited); // all tried accounts now rest: the answer says when to retry
    expect((err as CligateError).message).toMatch(/boom c/);
    expect((err as CligateError).retryAfter).toBe(1);
  });

  it('maxAttempts 0 tries every account once; a client error is not retried', async () => {
    const { pool } = setup('round-robin', [{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    const all: string[] = [];
    await request(pool, (id) => (all.push(id), new Unauthorized(`bad ${id}`))).catch(() => undefined);
    expect(all).toEqual(['a', 'b', 'c']);
    const { pool: p2 } = setup('round-robin', [{ id: 'a' }, { id: 'b' }]);
    const once: string[] = [];
    const err = await request(p2, (id) => (once.push(id), new BadRequest('bad prompt'))).catch((e: unknown) => e);
    expect(once).toEqual(['a']);
    expect((err as CligateError).status).toBe(400);
  });

  it('no failover once the answer has started', async () => {
    const { pool } = setup('round-robin', [{ id: 'a' }, { id: 'b' }]);
    const used: string[] = [];
    const it = pool.stream(ctx(), undefined, (a) =>
      (async function* (): AsyncGenerator<StreamPart> {
        used.push(a.id);
        yield { type: 'text-delta', text: 'half' };
        throw new UpstreamError('cut', { status: 502 });
      })(),
    );
    const parts: StreamPart[] = [];
    const err = await (async () => {
      for await (const p of it) parts.push(p);
    })().catch((e: unknown) => e);
    expect(used).toEqual(['a']);
    expect(parts).toEqual([{ type: 'text-delta', text: 'half' }]);
    expect((err as CligateError).message).toBe('cut');
  });

  it('no accounts at all: a 503 that says where to add one', async () => {
    const { pool } = setup('round-robin', []);
    const err = (await request(pool, ok).catch((e: unknown) => e)) as CligateError;
    expect(err.status).toBe(503);
    expect(err.code).toBe('no_accounts');
  });
});

describe('refresh', () => {
  it('concurrent refreshes of one account run once and share the result; errors reach every waiter', async () => {
    const { pool, store } = setup('round-robin', [{ id: 'a' }, { id: 'b' }]);
    const a = store.get('a')!;
    let runs = 0;
    const work = async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 30));
      return `token-${runs}`;
    };
    const got = await Promise.all(Array.from({ length: 10 }, () => pool.refresh(a, work)));
    expect(runs).toBe(1);
    expect(new Set(got)).toEqual(new Set(['token-1']));
    // another account refreshes on its own
    await pool.refresh(store.get('b')!, work);
    expect(runs).toBe(2);
    const failing = () => Promise.reject(new Error('refresh rejected'));
    const errs = await Promise.all([pool.refresh(a, failing), pool.refresh(a, failing)].map((p) => p.catch((e: Error) => e.message)));
    expect(errs).toEqual(['refresh rejected', 'refresh rejected']);
  });
});
