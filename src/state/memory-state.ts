/** SharedState in this process's memory: the single-instance default. */
import { randomUUID } from 'node:crypto';
import type { SharedState } from './shared-state.js';

export class MemoryState implements SharedState {
  readonly kind = 'memory' as const;
  readonly instanceId = randomUUID();
  private readonly values = new Map<string, { value: string; until: number }>();
  private readonly listeners = new Map<string, ((m: Record<string, unknown>) => void)[]>();

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

  async setJson(key: string, value: unknown, ttlMs?: number): Promise<void> {
    this.values.set(key, { value: JSON.stringify(value), until: ttlMs ? Date.now() + ttlMs : Infinity });
  }

  async scanJson<T>(prefix: string): Promise<[string, T][]> {
    return [...this.values.keys()].filter((k) => k.startsWith(prefix) && this.live(k) !== undefined).map((k) => [k, JSON.parse(this.live(k)!) as T]);
  }

  async del(key: string): Promise<void> {
    this.values.delete(key);
  }

  async incr(key: string): Promise<number> {
    const n = Number(this.live(key) ?? 0) + 1;
    this.values.set(key, { value: String(n), until: Infinity });
    return n;
  }

  async tryLock(key: string, ttlMs: number): Promise<string | undefined> {
    if (this.live(key) !== undefined) return undefined;
    const token = randomUUID();
    this.values.set(key, { value: JSON.stringify(token), until: Date.now() + ttlMs });
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
