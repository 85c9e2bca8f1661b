/**
 * The account pool of one API provider: picks an account per request (strategy from
 * the store's provider settings), runs the provider's attempt on it, and fails over to
 * the next account on retryable errors until maxAttempts, keeping each account's health:
 *
 *   401/403            -> the account leaves rotation with the reason (persisted), try the next
 *   429                -> cools for retry-after (else the ladder), try the next
 *   5xx, timeout, net  -> cools on the ladder, try the next
 *   anything else      -> the client's problem: fail at once
 *
 * Failover is only possible before the answer has started; after that an error ends
 * the stream (the account's health is still recorded).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AccountCheckResult, AccountPoolView, ProviderContext, Logger } from '../core/provider.js';
import type { StreamPart } from '../core/stream.js';
import { CligateError, RateLimited, Timeout, Unavailable, toCligateError } from '../core/errors.js';
import type { AccountStore } from './store.js';
import { HealthBook, type AccountHealth, type HealthOptions } from './health.js';
import { Selector } from './select.js';
import { SingleFlight } from './single-flight.js';
import type { Account, Strategy } from './types.js';
import type { SharedState } from '../state/shared-state.js';
import { createHash } from 'node:crypto';

export interface PoolOptions {
  provider: string;
  store: AccountStore;
  health: HealthOptions;
  /** used when the store has no strategy for this provider */
  defaultStrategy: Strategy;
  /** used when the store has no maxAttempts for this provider (0 = every account once) */
  defaultMaxAttempts: number;
  /**
   * sticky sessions: a bound account that rests no longer than this is waited for
   * instead of being left (prompt caches live on the account); longer rests move the session
   */
  stickyWaitMs?: number;
  /** an attempt that yields no answer part within this long is abandoned and the next account tried (0 = off) */
  firstTokenMs?: number;
  /** the proxy when neither the account nor the store names one (UPSTREAM_PROXY) */
  defaultProxy?: string;
  random?: () => number;
  /** told of refreshes and failed attempts (metrics) */
  events?: PoolEvents;
  /**
   * state shared with other instances (Redis): health, sticky bindings, the round-robin
   * cursor; tokens and refresh locks through TokenCache. Absent: this process alone.
   */
  shared?: SharedState;
}

const HEALTH_TTL_MS = 7 * 86_400_000;
const STICKY_TTL_MS = 86_400_000;

export interface PoolEvents {
  refreshed(provider: string, ok: boolean): void;
  failed(provider: string, outcome: Outcome): void;
}

export interface AccountStatus {
  id: string;
  label?: string;
  enabled: boolean;
  weight: number;
  usable: boolean;
  health: AccountHealth;
}

/** parts that mean the answer has started: no failover after one of these */
const COMMITS = new Set<StreamPart['type']>(['text-delta', 'reasoning-delta', 'tool-call', 'progress']);

export type Outcome = 'auth' | 'cool' | 'fatal';

export function classify(err: CligateError): Outcome {
  if (err.status === 401 || err.status === 403) return 'auth';
  if (err.status === 429 || err.status >= 500 || err.kind === 'timeout') return 'cool';
  return 'fatal';
}

/** satisfies core's AccountPoolView: what the admin API and metrics see of it (Provider.pool) */
export class AccountPool implements AccountPoolView {
  readonly health: HealthBook;
  private readonly selector: Selector;
  private readonly refreshes = new SingleFlight<unknown>();

  /** resolves once the shared health of other instances is loaded */
  private readonly ready: Promise<void>;

  constructor(private readonly opts: PoolOptions) {
    const shared = opts.shared?.kind === 'redis' ? opts.shared : undefined;
    this.health = new HealthBook({ ...opts.health, ...(shared ? { onChange: (id, h) => this.shareHealth(shared, id, h) } : {}) });
    this.selector = new Selector(opts.store.settings(opts.provider).strategy ?? opts.defaultStrategy, opts.random);
    this.ready = shared ? this.joinShared(shared).catch(() => {}) : Promise.resolve();
  }

  get provider(): string {
    return this.opts.provider;
  }

  /** shared with other instances, or undefined when this process is alone */
  get shared(): SharedState | undefined {
    return this.opts.shared?.kind === 'redis' ? this.opts.shared : undefined;
  }

  private healthKey(id: string): string {
    return `health:${this.opts.provider}:${id}`;
  }

  /**
   * when each account's shared state last changed (ms): the newest wins between instances, in
   * notices and when Redis returns after an outage
   */
  private readonly healthAt = new Map<string, number>();

  private shareHealth(shared: SharedState, id: string, h: AccountHealth): void {
    const at = Math.max(Date.now(), (this.healthAt.get(id) ?? 0) + 1);
    this.healthAt.set(id, at);
    void this.sendHealth(shared, id, h, at).catch(() => {});
  }

  private async sendHealth(shared: SharedState, id: string, h: AccountHealth, at: number): Promise<void> {
    const { lastUsed: _local, ...rest } = h;
    await Promise.all([shared.setJson(this.healthKey(id), { ...rest, _at: at }, HEALTH_TTL_MS), shared.publish('health', { from: shared.instanceId, provider: this.opts.provider, id, health: rest, at })]);
  }

  /** another instance's state of an account, unless this instance's is newer */
  private takeHealth(id: string, stored: AccountHealth & { _at?: unknown }, at: number): 'taken' | 'mine' {
    const { _at, ...h } = stored;
    if ((this.healthAt.get(id) ?? -1) > at) return 'mine';
    this.healthAt.set(id, at);
    this.health.apply(id, h);
    return 'taken';
  }

  /** other instances' account states: what they stored, then what they announce */
  private async joinShared(shared: SharedState): Promise<void> {
    // Redis back after an outage, or found empty: the newer of each account's states, here and there, wins in both
    shared.onResync?.([this.healthKey('')], (remote) => this.resyncHealth(remote));
    await shared.subscribe('health', (m) => {
      if (m.from === shared.instanceId || m.provider !== this.opts.provider || typeof m.id !== 'string') return;
      // an older state than this instance's: Redis and the others get this one
      if (this.takeHealth(m.id, m.health as AccountHealth, typeof m.at === 'number' ? m.at : Date.now()) === 'mine') void this.sendHealth(shared, m.id, this.health.get(m.id), this.healthAt.get(m.id)!).catch(() => {});
    });
    for (const [key, h] of await (shared.direct ?? shared).scanJson<AccountHealth & { _at?: unknown }>(this.healthKey(''))) this.takeHealth(key.slice(this.healthKey('').length), h, typeof h._at === 'number' ? h._at : 0);
  }

  private async resyncHealth(remote: SharedState): Promise<Record<string, number>> {
    const theirs = new Map<string, AccountHealth & { _at?: unknown }>();
    for (const [key, h] of await remote.scanJson<AccountHealth & { _at?: unknown }>(this.healthKey(''))) theirs.set(key.slice(this.healthKey('').length), h);
    let health = 0;
    for (const id of new Set([...this.healthAt.keys(), ...theirs.keys()])) {
      const t = theirs.get(id);
      const tAt = typeof t?._at === 'number' ? t._at : 0;
      const mine = this.healthAt.get(id);
      if (mine !== undefined && (!t || mine > tAt)) {
        await this.sendHealth(remote, id, this.health.get(id), mine);
        health++;
      } else if (t && (mine === undefined || tAt > mine)) this.takeHealth(id, t, tAt);
    }
    return { health };
  }

  private stickyKey(sessionKey: string): string {
    return `sticky:${this.opts.provider}:${createHash('sha256').update(sessionKey).digest('hex').slice(0, 32)}`;
  }

  /**
   * where a shared round-robin starts: the next ticket of the shared counter; failover
   * within a request continues after the account that failed
   */
  private async sharedStart(shared: SharedState, all: Account[], lastTried: string | undefined): Promise<number> {
    if (lastTried !== undefined) return all.findIndex((a) => a.id === lastTried) + 1;
    return ((await shared.incr(`rr:${this.opts.provider}`)) - 1) % Math.max(1, all.length);
  }

  accounts(): Account[] {
    return this.opts.store.accounts(this.opts.provider);
  }

  /** at least one account is enabled: the pool claims bare model names only then */
  hasEnabled(): boolean {
    return this.accounts().some((a) => a.enabled);
  }

  /** enabled, not rejected, not cooling */
  usable(): Account[] {
    return this.accounts().filter((a) => a.enabled && !a.disabledReason && a.weight >= 0 && this.health.usable(a.id));
  }

  proxyFor(account: Account): string | undefined {
    return account.proxy || this.opts.store.proxy || this.opts.defaultProxy || undefined;
  }

  /** one refresh per account at a time; concurrent callers share it (and its error); times kept for the admin view */
  refresh<T>(account: Account, work: () => Promise<T>): Promise<T> {
    return this.refreshes.run(account.id, async () => {
      const h = this.health.get(account.id);
      try {
        const out = await work();
        h.lastRefresh = Date.now();
        h.lastRefreshError = undefined;
        this.opts.events?.refreshed(this.opts.provider, true);
        return out;
      } catch (err) {
        h.lastRefreshError = (err as Error).message;
        this.opts.events?.refreshed(this.opts.provider, false);
        throw err;
      }
    }) as Promise<T>;
  }

  /**
   * an admin's credential check: `work` talks to the upstream with the account; success
   * puts it back in rotation (and clears a persisted rejection), failure is recorded as
   * a request's would be
   */
  async check(id: string, work: (account: Account) => Promise<string>, log: Logger): Promise<AccountCheckResult> {
    const account = this.opts.store.get(id);
    if (!account || account.provider !== this.opts.provider) throw new Error(`no ${this.opts.provider} account "${id}"`);
    try {
      const detail = await work(account);
      this.health.restore(id);
      if (account.disabledReason) await this.opts.store.update(id, { disabledReason: undefined });
      return { ok: true, detail };
    } catch (e) {
      const err = toCligateError(e);
      this.record(account, err, log);
      return { ok: false, status: err.status, error: err.message };
    }
  }

  /** back in rotation now (credentials edited, account re-enabled) */
  restore(id: string): void {
    this.health.restore(id);
  }

  status(): AccountStatus[] {
    return this.accounts().map((a) => ({
      id: a.id,
      ...(a.label ? { label: a.label } : {}),
      enabled: a.enabled,
      weight: a.weight,
      usable: a.enabled && !a.disabledReason && this.health.usable(a.id),
      health: { ...this.health.get(a.id), ...(a.disabledReason ? { unavailable: a.disabledReason } : {}) },
    }));
  }

  private maxAttempts(): number {
    const n = this.opts.store.settings(this.opts.provider).maxAttempts ?? this.opts.defaultMaxAttempts;
    return n > 0 ? n : Math.max(1, this.accounts().length);
  }

  private async *only(ctx: ProviderContext, account: Account, attempt: (account: Account, ctx: ProviderContext) => AsyncIterable<StreamPart>): AsyncGenerator<StreamPart> {
    yield* this.watched(ctx, account, attempt);
  }

  /**
   * one attempt with its own abort signal: the client leaving aborts it, and so does the
   * first-token timer (then the error is a Timeout, which the pool fails over on)
   */
  private async *watched(ctx: ProviderContext, account: Account, attempt: (account: Account, ctx: ProviderContext) => AsyncIterable<StreamPart>): AsyncGenerator<StreamPart> {
    const ac = new AbortController();
    const onAbort = () => ac.abort(ctx.signal.reason);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const ms = this.opts.firstTokenMs ?? 0;
    let timer = ms
      ? setTimeout(() => ac.abort(new Timeout(`${this.opts.provider} account ${account.id} sent nothing within ${Math.round(ms / 1000)} s (FIRST_TOKEN_TIMEOUT).`, { code: 'first_token_timeout' })), ms)
      : undefined;
    try {
      for await (const part of attempt(account, { ...ctx, signal: ac.signal })) {
        if (part.type === 'error') throw part.error;
        if (timer && COMMITS.has(part.type)) {
          clearTimeout(timer);
          timer = undefined;
        }
        yield part;
      }
    } catch (err) {
      if (ac.signal.aborted && !ctx.signal.aborted && ac.signal.reason instanceof Timeout) throw ac.signal.reason;
      throw err;
    } finally {
      if (timer) clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onAbort);
    }
  }

  /** the session's bound account rests, but only briefly: worth waiting for */
  private shortRest(sessionKey: string | undefined, id: string): boolean {
    const limit = this.opts.stickyWaitMs ?? 0;
    if (!limit || this.selector.boundTo(sessionKey) !== id) return false;
    const h = this.health.get(id);
    return !h.unavailable && this.health.waitMs(id) > 0 && this.health.waitMs(id) <= limit;
  }

  private async waitForBound(sessionKey: string | undefined, tried: Set<string>, signal: AbortSignal): Promise<void> {
    const id = this.selector.boundTo(sessionKey);
    if (!id || tried.has(id) || !this.shortRest(sessionKey, id)) return;
    await sleep(this.health.waitMs(id), undefined, { signal }).catch(() => undefined);
  }

  /** records what an error says about the account; true when another account may be tried */
  private record(account: Account, err: CligateError, log: Logger): boolean {
    const outcome = classify(err);
    this.opts.events?.failed(this.opts.provider, outcome);
    if (outcome === 'auth') {
      this.health.authFailed(account.id, err.message);
      // persisted, so a restart does not put a rejected account back in rotation
      if (this.opts.store.get(account.id)) void this.opts.store.update(account.id, { disabledReason: err.message }).catch((e: unknown) => log.warn({ err: String(e) }, 'could not persist account state'));
      log.warn({ account: account.id, status: err.status }, 'account credentials rejected; out of rotation');
      return true;
    }
    if (outcome === 'cool') {
      const ms = this.health.cool(account.id, err.message, err.retryAfter !== undefined ? { retryAfterMs: err.retryAfter * 1000 } : {});
      log.info({ account: account.id, status: err.status, coolMs: ms }, 'account cooling down');
      return true;
    }
    return false;
  }

  /** why nothing can serve right now: a 429 with the soonest recovery, or a 503 with the reasons */
  private noAccount(last?: CligateError): CligateError {
    const accounts = this.accounts();
    const cooling = accounts.filter((a) => a.enabled && !a.disabledReason && !this.health.get(a.id).unavailable && !this.health.usable(a.id));
    if (cooling.length) {
      const wait = Math.min(...cooling.map((a) => this.health.waitMs(a.id)));
      return new RateLimited(`Every ${this.opts.provider} account is cooling down${last ? ` (last error: ${last.message})` : ''}; retry in ${Math.ceil(wait / 1000)} s.`, {
        retryAfter: Math.max(1, Math.ceil(wait / 1000)),
        code: 'accounts_cooling_down',
      });
    }
    if (last) return last;
    if (!accounts.length) return new Unavailable(`No ${this.opts.provider} accounts are configured; add one to ${this.opts.store.file || 'the account store'}.`, { code: 'no_accounts' });
    const reasons = accounts.map((a) => `${a.id}: ${!a.enabled ? 'disabled' : (a.disabledReason ?? this.health.get(a.id).unavailable ?? 'unavailable')}`);
    return new Unavailable(`No usable ${this.opts.provider} account (${reasons.join('; ')}).`, { code: 'no_usable_account' });
  }

  async *stream(
    ctx: ProviderContext,
    sessionKey: string | undefined,
    attempt: (account: Account, ctx: ProviderContext) => AsyncIterable<StreamPart>,
  ): AsyncGenerator<StreamPart> {
    // stateless gateway mode: exactly the account the request brought, no rotation, nothing stored
    if (ctx.account) {
      ctx.onAccount?.(ctx.account.id);
      yield* this.only(ctx, ctx.account as Account, attempt);
      return;
    }
    await this.ready;
    const shared = this.shared;
    const sticky = this.selector.strategy === 'sticky' && sessionKey !== undefined;
    if (shared && sticky) {
      // another instance may have bound this conversation already
      const remote = await shared.getJson<string>(this.stickyKey(sessionKey!)).catch(() => undefined);
      if (remote && remote !== this.selector.boundTo(sessionKey)) this.selector.bind(sessionKey!, remote);
    }
    const tried = new Set<string>();
    const max = this.maxAttempts();
    let last: CligateError | undefined;
    let lastTried: string | undefined;
    for (let n = 0; n < max; n++) {
      if (ctx.signal.aborted) return;
      await this.waitForBound(sessionKey, tried, ctx.signal);
      const usable = new Set(this.usable().map((a) => a.id));
      const all = this.accounts();
      const ok = (a: Account) => usable.has(a.id) && !tried.has(a.id);
      const before = this.selector.boundTo(sessionKey);
      const start = shared && this.selector.strategy !== 'weighted' ? await this.sharedStart(shared, all, lastTried).catch(() => undefined) : undefined;
      const account = this.selector.pick(all, ok, sessionKey, start);
      if (!account) break;
      lastTried = account.id;
      if (shared && sticky && this.selector.boundTo(sessionKey) !== before) void shared.setJson(this.stickyKey(sessionKey!), account.id, STICKY_TTL_MS).catch(() => {});
      tried.add(account.id);
      this.health.used(account.id);
      ctx.onAccount?.(account.id);
      let committed = false;
      try {
        for await (const part of this.watched(ctx, account, attempt)) {
          if (COMMITS.has(part.type)) committed = true;
          yield part;
        }
        this.health.succeeded(account.id);
        return;
      } catch (e) {
        if (ctx.signal.aborted) return;
        const err = toCligateError(e);
        const retry = this.record(account, err, ctx.log);
        if (committed || !retry) throw err;
        // a short rest of the session's own account is waited out on the next round
        if (this.shortRest(sessionKey, account.id)) tried.delete(account.id);
        last = err;
        ctx.log.debug({ account: account.id, attempt: n + 1, of: max, err: err.message }, 'failing over to the next account');
      }
    }
    throw this.noAccount(last);
  }
}
