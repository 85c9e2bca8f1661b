/**
 * A client key's limits, counted in shared state so every instance counts the same:
 * requests per minute (a fixed window per UTC minute), tokens per UTC day (input + output,
 * added when a request ends, checked before the next one starts) and requests in flight
 * (leased slots, renewed while the request runs, freed when it ends or its instance dies).
 */
import { RateLimited } from '../core/errors.js';
import type { SharedState } from '../state/shared-state.js';
import type { ClientKey } from './key.js';

const MINUTE = 60_000;
const DAY = 86_400_000;
/** a slot's lease: renewed at a third of it, so a live request never loses its slot */
const LEASE_MS = 60_000;

const minuteKey = (key: ClientKey, now: number) => `keys:rpm:${key.id}:${Math.floor(now / MINUTE)}`;
const dayKey = (key: ClientKey, now: number) => `keys:tokens:${key.id}:${new Date(now).toISOString().slice(0, 10)}`;
const slotsKey = (key: ClientKey) => `keys:inflight:${key.id}`;
const secondsLeft = (now: number, period: number) => Math.max(1, Math.ceil((period - (now % period)) / 1000));

/** a request let in: release() frees its slot (once) */
export interface Admission {
  /** the requests-per-minute headers' values, when the key has that limit */
  readonly requests?: { limit: number; remaining: number; resetSeconds: number };
  release(): void;
}

export interface KeyUse {
  requestsThisMinute: number;
  tokensToday: number;
  inFlight: number;
}

export class KeyLimiter {
  constructor(private readonly shared: SharedState) {}

  /** lets a chat request in or throws a 429 naming the limit; the caller releases what it got */
  async admit(key: ClientKey, requestId: string, now = Date.now()): Promise<Admission> {
    const { requestsPerMinute: rpm, tokensPerDay, concurrent } = key.limits;
    const who = `API key '${key.name}'`;
    if (tokensPerDay !== undefined) {
      const used = await this.shared.incrWindow(dayKey(key, now), 0, DAY + MINUTE);
      if (used >= tokensPerDay) {
        const retryAfter = secondsLeft(now, DAY);
        throw new RateLimited(`${who} has used its ${tokensPerDay} tokens for today (UTC): ${used} used. Retry after ${retryAfter}s.`, { code: 'key_tokens_per_day', retryAfter });
      }
    }
    let release = () => {};
    if (concurrent !== undefined) {
      const slots = slotsKey(key);
      if (!(await this.shared.takeSlot(slots, requestId, concurrent, LEASE_MS))) {
        throw new RateLimited(`${who} already has ${concurrent} request${concurrent === 1 ? '' : 's'} in flight, its limit. Retry when one ends.`, { code: 'key_concurrency', retryAfter: 1 });
      }
      const renew = setInterval(() => void this.shared.takeSlot(slots, requestId, concurrent, LEASE_MS).catch(() => {}), LEASE_MS / 3);
      renew.unref();
      let held = true;
      release = () => {
        if (!held) return;
        held = false;
        clearInterval(renew);
        void this.shared.releaseSlot(slots, requestId).catch(() => {});
      };
    }
    if (rpm === undefined) return { release };
    let n: number;
    try {
      n = await this.shared.incrWindow(minuteKey(key, now), 1, MINUTE + 5_000);
    } catch (err) {
      release();
      throw err;
    }
    const resetSeconds = secondsLeft(now, MINUTE);
    if (n > rpm) {
      release();
      throw new RateLimited(`${who} reached its limit of ${rpm} requests per minute. Retry after ${resetSeconds}s.`, { code: 'key_requests_per_minute', retryAfter: resetSeconds });
    }
    return { requests: { limit: rpm, remaining: rpm - n, resetSeconds }, release };
  }

  /** a finished request's tokens, counted against today's */
  async addTokens(key: ClientKey, tokens: number, now = Date.now()): Promise<void> {
    if (tokens > 0) await this.shared.incrWindow(dayKey(key, now), tokens, DAY + MINUTE);
  }

  /** what the key has used now, for the console */
  async use(key: ClientKey, now = Date.now()): Promise<KeyUse> {
    const [requestsThisMinute, tokensToday, inFlight] = await Promise.all([
      this.shared.incrWindow(minuteKey(key, now), 0, MINUTE + 5_000),
      this.shared.incrWindow(dayKey(key, now), 0, DAY + MINUTE),
      this.shared.countSlots(slotsKey(key)),
    ]);
    return { requestsThisMinute, tokensToday, inFlight };
  }
}
