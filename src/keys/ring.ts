/**
 * Who is calling: the master key (API_KEY), a client key from the store, or nobody when the
 * gateway is open (no API_KEY and no client keys). Keys are found by the sha256 of the
 * presented secret (an index rebuilt when the store's list changes). Last use is kept here
 * and written to shared state at most once a minute per key, so the console sees it from
 * any instance without a write per request.
 */
import { type ClientKey, KEY_PREFIX, hashSecret } from './key.js';
import type { SharedState } from '../state/shared-state.js';

/** the caller of an API request, as res.locals.caller */
export type Caller = { kind: 'master' } | { kind: 'key'; key: ClientKey };

/** the client key behind a caller, if it is one */
export const keyOf = (caller: Caller | undefined): ClientKey | undefined => (caller?.kind === 'key' ? caller.key : undefined);

const LAST_USED = 'keys:last-used:';
const TOUCH_EVERY_MS = 60_000;

export class KeyRing {
  private index?: { list: readonly ClientKey[]; byHash: Map<string, ClientKey> };
  private readonly lastUsed = new Map<string, number>();
  private readonly lastShared = new Map<string, number>();

  constructor(
    private readonly store: { readonly keys: readonly ClientKey[] },
    private readonly shared?: SharedState,
  ) {}

  /** true while the store holds any key (a revoked one too: its use is refused by name) */
  get any(): boolean {
    return this.store.keys.length > 0;
  }

  /** the key with this secret, whatever its state */
  find(secret: string): ClientKey | undefined {
    if (!secret.startsWith(KEY_PREFIX) || !this.any) return undefined;
    const list = this.store.keys;
    if (this.index?.list !== list) this.index = { list, byHash: new Map(list.map((k) => [k.hash, k])) };
    return this.index.byHash.get(hashSecret(secret));
  }

  /** a usable key: its use is noted */
  touch(key: ClientKey, now = Date.now()): void {
    this.lastUsed.set(key.id, now);
    if (!this.shared || now - (this.lastShared.get(key.id) ?? 0) < TOUCH_EVERY_MS) return;
    this.lastShared.set(key.id, now);
    void this.shared.setJson(LAST_USED + key.id, now).catch(() => {});
  }

  /** when each key was last used, on any instance */
  async lastUse(): Promise<Map<string, number>> {
    const out = new Map(this.lastUsed);
    const stored = await this.shared?.scanJson<number>(LAST_USED).catch(() => []);
    for (const [k, t] of stored ?? []) {
      const id = k.slice(LAST_USED.length);
      out.set(id, Math.max(out.get(id) ?? 0, t));
    }
    return out;
  }

  /** forgets what is kept about a deleted key */
  async forget(id: string): Promise<void> {
    this.lastUsed.delete(id);
    this.lastShared.delete(id);
    await this.shared?.del(LAST_USED + id).catch(() => {});
  }
}

