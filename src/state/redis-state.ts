/**
 * SharedState on Redis (ioredis): JSON values with PX lifetimes, INCR, SET NX PX locks
 * released by compare-and-delete, pub/sub on a second connection, and rate-limit-redis
 * for express-rate-limit. Every key and channel carries the prefix (REDIS_PREFIX).
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import type { SharedState } from './shared-state.js';

// INCRBY, and the window's lifetime set by the add that created it
const INCR_WINDOW = "local v = redis.call('incrby', KEYS[1], ARGV[1]) if v == tonumber(ARGV[1]) or redis.call('pttl', KEYS[1]) < 0 then redis.call('pexpire', KEYS[1], ARGV[2]) end return v";
// a sorted set of holders scored by lease end: expired leases go first, then the slot is taken or renewed if one is free
const TAKE_SLOT =
  "redis.call('zremrangebyscore', KEYS[1], '-inf', ARGV[1]) " +
  "if redis.call('zscore', KEYS[1], ARGV[2]) or redis.call('zcard', KEYS[1]) < tonumber(ARGV[3]) then " +
  "redis.call('zadd', KEYS[1], ARGV[4], ARGV[2]) redis.call('pexpire', KEYS[1], ARGV[5]) return 1 end return 0";
const UNLOCK = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

export class RedisState implements SharedState {
  readonly kind = 'redis' as const;
  readonly instanceId = randomUUID();
  private readonly listeners = new Map<string, ((m: Record<string, unknown>) => void)[]>();

  private constructor(
    private readonly client: Redis,
    private readonly sub: Redis,
    private readonly prefix: string,
  ) {
    for (const c of [client, sub]) {
      c.on('close', () => this.emitConnection('down'));
      c.on('ready', () => this.emitConnection(client.status === 'ready' && sub.status === 'ready' ? 'ready' : 'down'));
    }
    sub.on('message', (channel: string, raw: string) => {
      let m: Record<string, unknown>;
      try {
        m = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        return;
      }
      for (const l of this.listeners.get(channel.slice(this.prefix.length)) ?? []) l(m);
    });
  }

  private readonly connectionListeners: ((event: 'ready' | 'down') => void)[] = [];

  private emitConnection(event: 'ready' | 'down'): void {
    for (const l of this.connectionListeners) l(event);
  }

  /** told when a connection drops ('down') and when both are ready again */
  onConnection(listener: (event: 'ready' | 'down') => void): void {
    this.connectionListeners.push(listener);
  }

  /**
   * connects and checks the server answers, or fails with a message naming REDIS_URL.
   * A command never waits for a connection: while one is down, commands fail at once (no offline
   * queue), and those in flight when it dropped fail rather than being sent again later; the
   * connection is retried every second at most, for ever.
   */
  static async connect(url: string, prefix: string): Promise<RedisState> {
    const opts = {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      retryStrategy: (times: number) => Math.min(times * 50, 500),
      connectTimeout: 5_000,
      lazyConnect: true,
    };
    const client = new Redis(url, opts);
    const sub = new Redis(url, opts);
    // errors surface on the commands; without a listener ioredis would print each reconnect attempt
    client.on('error', () => {});
    sub.on('error', () => {});
    try {
      await Promise.all([client.connect(), sub.connect()]);
      // a frozen server accepts the connection and answers nothing
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([client.ping(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no answer to PING within 5 s')), 5_000)))]).finally(() => clearTimeout(timer));
    } catch (err) {
      client.disconnect();
      sub.disconnect();
      throw new Error(`Cannot reach Redis at ${url.replace(/\/\/[^@/]*@/, '//****@')} (REDIS_URL): ${(err as Error).message}`);
    }
    return new RedisState(client, sub, prefix);
  }

  private k(key: string): string {
    return this.prefix + key;
  }

  async getJson<T>(key: string): Promise<T | undefined> {
    const v = await this.client.get(this.k(key));
    return v === null ? undefined : (JSON.parse(v) as T);
  }

  async setJson(key: string, value: unknown, ttlMs?: number): Promise<void> {
    if (ttlMs !== undefined && ttlMs > 0) await this.client.set(this.k(key), JSON.stringify(value), 'PX', Math.ceil(ttlMs));
    else if (ttlMs === undefined) await this.client.set(this.k(key), JSON.stringify(value));
    else await this.client.del(this.k(key));
  }

  async scanJson<T>(prefix: string): Promise<[string, T][]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.client.scan(cursor, 'MATCH', `${this.k(prefix).replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 500);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    if (!keys.length) return [];
    const values = await this.client.mget(keys);
    return keys.flatMap((key, i) => (values[i] === null || values[i] === undefined ? [] : [[key.slice(this.prefix.length), JSON.parse(values[i]!) as T] as [string, T]]));
  }

  async del(key: string): Promise<void> {
    await this.client.del(this.k(key));
  }

  incr(key: string): Promise<number> {
    return this.client.incr(this.k(key));
  }

  async incrWindow(key: string, by: number, ttlMs: number): Promise<number> {
    return Number(await this.client.eval(INCR_WINDOW, 1, this.k(key), by, Math.ceil(ttlMs)));
  }

  async takeSlot(key: string, id: string, limit: number, leaseMs: number): Promise<boolean> {
    // the server's clock scores leases, so instances with skewed clocks agree
    const [sec, micro] = await this.client.time();
    const now = Number(sec) * 1000 + Math.floor(Number(micro) / 1000);
    return Number(await this.client.eval(TAKE_SLOT, 1, this.k(key), now, id, limit, now + leaseMs, Math.ceil(leaseMs))) === 1;
  }

  async releaseSlot(key: string, id: string): Promise<void> {
    await this.client.zrem(this.k(key), id);
  }

  async countSlots(key: string): Promise<number> {
    const [sec, micro] = await this.client.time();
    return this.client.zcount(this.k(key), Number(sec) * 1000 + Math.floor(Number(micro) / 1000), '+inf');
  }

  async tryLock(key: string, ttlMs: number): Promise<string | undefined> {
    const token = randomUUID();
    const ok = await this.client.set(this.k(key), token, 'PX', Math.ceil(ttlMs), 'NX');
    return ok === 'OK' ? token : undefined;
  }

  async unlock(key: string, token: string): Promise<void> {
    await this.client.eval(UNLOCK, 1, this.k(key), token);
  }

  async publish(channel: string, message: object): Promise<void> {
    await this.client.publish(this.k(channel), JSON.stringify(message));
  }

  async subscribe(channel: string, onMessage: (m: Record<string, unknown>) => void): Promise<void> {
    const first = !this.listeners.has(channel);
    this.listeners.set(channel, [...(this.listeners.get(channel) ?? []), onMessage]);
    if (first) await this.sub.subscribe(this.k(channel));
  }

  /** subscribes again to every channel listened to (after an outage: SUBSCRIBE is idempotent) */
  async resubscribe(): Promise<void> {
    if (this.listeners.size) await this.sub.subscribe(...[...this.listeners.keys()].map((c) => this.k(c)));
  }

  /** both connections are up and answer */
  async ping(): Promise<void> {
    if (this.client.status !== 'ready' || this.sub.status !== 'ready') throw new Error(`Redis connection ${this.client.status !== 'ready' ? this.client.status : this.sub.status}`);
    await Promise.all([this.client.ping(), this.sub.ping()]);
  }

  /** sets the value only where the key has none (what another instance wrote meanwhile wins) */
  async setJsonIfAbsent(key: string, value: unknown, ttlMs?: number): Promise<boolean> {
    const json = JSON.stringify(value);
    const ok = ttlMs !== undefined ? await this.client.set(this.k(key), json, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX') : await this.client.set(this.k(key), json, 'NX');
    return ok === 'OK';
  }

  rateLimitStore(name: string): RedisStore {
    return new RedisStore({
      prefix: this.k(`rl:${name}:`),
      sendCommand: (command: string, ...args: string[]) => this.client.call(command, ...args) as Promise<RedisReply>,
    });
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.connectionListeners.length = 0;
    // QUIT waits for an answer a frozen Redis never gives: a second, then the sockets are closed
    const quit = (c: Redis) => Promise.race([c.quit().catch(() => {}), new Promise((r) => setTimeout(r, 1_000).unref())]).finally(() => c.disconnect());
    await Promise.allSettled([quit(this.client), quit(this.sub)]);
  }
}
