/**
 * Which account serves the next request: round-robin over the provider's accounts in
 * store order, weighted random by `weight`, or sticky by session key (a conversation
 * stays on its account while that account is usable; otherwise it moves and stays there).
 */
import type { Account, Strategy } from './types.js';

const STICKY_MAX = 10_000;

export class Selector {
  private cursor = 0;
  private readonly sticky = new Map<string, string>();

  constructor(
    readonly strategy: Strategy,
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * one of the accounts that `ok` accepts, or undefined when there is none. `all` is the
   * provider's accounts in store order: round-robin walks it, so failing over from an
   * account goes to the one after it.
   */
  pick(all: Account[], ok: (a: Account) => boolean, sessionKey?: string, start?: number): Account | undefined {
    const usable = all.filter(ok);
    if (!usable.length) return undefined;
    if (this.strategy === 'sticky' && sessionKey) {
      const bound = this.sticky.get(sessionKey);
      const found = bound && usable.find((a) => a.id === bound);
      if (found) return found;
      const chosen = this.roundRobin(all, ok, start);
      this.bind(sessionKey, chosen.id);
      return chosen;
    }
    if (this.strategy === 'weighted') return this.weighted(usable);
    return this.roundRobin(all, ok, start);
  }

  /** the account a session is bound to, if any */
  boundTo(sessionKey: string | undefined): string | undefined {
    return this.strategy === 'sticky' && sessionKey ? this.sticky.get(sessionKey) : undefined;
  }

  /** from `start` when given (a cursor shared between instances), else from this instance's cursor */
  private roundRobin(all: Account[], ok: (a: Account) => boolean, start = this.cursor): Account {
    for (let k = 0; k < all.length; k++) {
      const i = (start + k) % all.length;
      if (ok(all[i]!)) {
        this.cursor = (i + 1) % all.length;
        return all[i]!;
      }
    }
    throw new Error('roundRobin called without a usable account');
  }

  private weighted(usable: Account[]): Account {
    const total = usable.reduce((s, a) => s + Math.max(0, a.weight), 0);
    if (total <= 0) return this.roundRobin(usable, () => true);
    let r = this.random() * total;
    for (const a of usable) {
      r -= Math.max(0, a.weight);
      if (r < 0) return a;
    }
    return usable[usable.length - 1]!;
  }

  /** binds a session to an account (also when another instance made the binding) */
  bind(key: string, id: string): void {
    this.sticky.delete(key);
    this.sticky.set(key, id);
    // oldest bindings go first
    if (this.sticky.size > STICKY_MAX) this.sticky.delete(this.sticky.keys().next().value!);
  }
}
