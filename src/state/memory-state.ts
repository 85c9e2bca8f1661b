/** SharedState in this process's memory: the single-instance default. */
import { randomUUID } from 'node:crypto';
import type { SharedState } from './shared-state.js';

export class MemoryState implements SharedState {
  readonly kind = 'memory' as const;
  readonly instanceId = randomUUID();
  private readonly values = new Map<string, { value: string; until: number }>();
  /** writes since expired entries were last swept out (a key that is never read again would stay) */
  private writes = 0;
  private readonly listeners = new Map<string, ((m: Record<string, unknown>) => void)[]>();

  private set(key: string, entry: { value: string; until: number }): void {
    this.values.set(key, entry);
    if (++this.writes < 1_000) return;
    this.writes = 0;
    const now = Date.now();
    for (const [k, v] of this.values) if (v.until <= now) this.values.delete(k);
    for (const k of this.slots.keys()) if (this.heldSlots(k).size === 0) this.slots.delete(k);
  }

  private live(key: string): string | undefined {
    const v = this.values.get(key);
    if (!v) return undefined;
    if (v.until <= Date.now()) {
      this.values.delete(key);
      return undefined;
    }
    return v.value;
  }

  async getJson<T>(key: string): Promise<T | undefined> {
    const v = this.live(key);
    return v === undefined ? undefined : (JSON.parse(v) as T);
  }

  /** a live value with the time it has left (none: kept), to copy it elsewhere */
  entry(key: string): { value: unknown; ttlMs?: number } | undefined {
    const v = this.live(key);
    if (v === undefined) return undefined;
    const until = this.values.get(key)!.until;
    return { value: JSON.parse(v) as unknown, ...(until === Infinity ? {} : { ttlMs: until - Date.now() }) };
  }

  async setJson(key: string, value: unknown, ttlMs?: number): Promise<void> {
    this.set(key, { value: JSON.stringify(value), until: ttlMs === undefined ? Infinity : Date.now() + ttlMs });
  }

  async scanJson<T>(prefix: string): Promise<[string, T][]> {
    return [...this.values.keys()].filter((k) => k.startsWith(prefix) && this.live(k) !== undefined).map((k) => [k, JSON.parse(this.live(k)!) as T]);
  }

  async del(key: string): Promise<void> {
    this.values.delete(key);
  }

  async incr(key: string): Promise<number> {
    const n = Number(this.live(key) ?? 0) + 1;
    this.set(key, { value: String(n), until: Infinity });
    return n;
  }

  async incrWindow(key: string, by: number, ttlMs: number): Promise<number> {
    const v = this.values.get(key);
    const live = v && v.until > Date.now() ? v : undefined;
    const n = Number(live?.value ?? 0) + by;
    this.set(key, { value: String(n), until: live?.until ?? Date.now() + ttlMs });
    return n;
  }

  private readonly slots = new Map<string, Map<string, number>>();

  private heldSlots(key: string): Map<string, number> {
    let held = this.slots.get(key);
    if (!held) this.slots.set(key, (held = new Map()));
    const now = Date.now();
    for (const [id, until] of held) if (until <= now) held.delete(id);
    return held;
  }

  async takeSlot(key: string, id: string, limit: number, leaseMs: number): Promise<boolean> {
    const held = this.heldSlots(key);
    if (!held.has(id) && held.size >= limit) return false;
    held.set(id, Date.now() + leaseMs);
    return true;
  }

  async releaseSlot(key: string, id: string): Promise<void> {
    const held = this.slots.get(key);
    held?.delete(id);
    if (held?.size === 0) this.slots.delete(key);
  }

  async countSlots(key: string): Promise<number> {
    return this.heldSlots(key).size;
  }

  async tryLock(key: string, ttlMs: number): Promise<string | undefined> {
    if (this.live(key) !== undefined) return undefined;
    const token = randomUUID();
    this.set(key, { value: JSON.stringify(token), until: Date.now() + ttlMs });
    return token;
  }

  async unlock(key: string, token: string): Promise<void> {
    if (this.live(key) === JSON.stringify(token)) this.values.delete(key);
  }

  async publish(channel: string, message: object): Promise<void> {
    for (const l of this.listeners.get(channel) ?? []) l({ ...message });
  }

  async subscribe(channel: string, onMessage: (m: Record<string, unknown>) => void): Promise<void> {
    this.listeners.set(channel, [...(this.listeners.get(channel) ?? []), onMessage]);
  }

  rateLimitStore(): undefined {
    return undefined;
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
