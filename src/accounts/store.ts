/**
 * The persisted account store: one JSON file (DATA_DIR/accounts.json) holding the global
 * proxy, per-provider settings and the accounts. Validated on load (a bad file is an
 * error naming the field, never silently replaced), written atomically after each
 * change, one write at a time. A new store is empty (config/accounts.example.json documents
 * the format; it is not copied in: an example account would show as an account everywhere).
 */
import { mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from './atomic-file.js';
import type { Account, StoreData } from './types.js';
import { modelRoutesSchema, type ModelRoute } from '../routing/routes.js';
import type { SharedState } from '../state/shared-state.js';
import { clientKeySchema, type ClientKey } from '../keys/key.js';

const META_KEY = 'accounts:meta';
const SAVED_AT_KEY = 'accounts:saved-at';
/** a removal is remembered this long in Redis, so an instance that still held the record does not bring it back */
const TOMBSTONE_TTL_MS = 30 * 86_400_000;

/**
 * one change to the store, as instances tell each other. `at` is its version: the time of the change
 * (always past the version it replaced), and the newest version of a record wins everywhere.
 */
type StoreChange =
  | { op: 'upsert'; kind: Kind; record: { id: string }; at?: number }
  | { op: 'remove'; kind: Kind; id: string; at?: number }
  | { op: 'meta'; meta: Meta; at?: number }
  | { op: 'replace'; data: StoreData; at?: number };

/** a version of one record: held (with the record) or removed */
interface Version {
  at: number;
  record?: { id: string };
}

/** a wins over b: a later version; at the same time, the same one on every instance (compared as text) */
function newer(a: { at: number; json?: string; record?: unknown }, b: { at: number; json?: string; record?: unknown }): boolean {
  if (a.at !== b.at) return a.at > b.at;
  const text = (v: { json?: string; record?: unknown }) => v.json ?? (v.record ? JSON.stringify(v.record) : '');
  return text(a) > text(b);
}

type Meta = Omit<StoreData, Kind>;

const accountSchema = z.object({
  id: z.string().min(1),
  provider: z.string().min(1),
  label: z.string().optional(),
  enabled: z.boolean().default(true),
  weight: z.number().int().min(0).max(1_000_000).default(100),
  proxy: z.string().optional(),
  credentials: z.record(z.string(), z.coerce.string()).default({}),
  disabledReason: z.string().optional(),
});

const providerSchema = z
  .object({
    strategy: z.enum(['round-robin', 'weighted', 'sticky']).optional(),
    models: z.array(z.string().min(1)).optional(),
    maxAttempts: z.number().int().min(0).optional(),
  })
  .passthrough();

/**
 * the lists of records with ids; each record is shared under its own key, so two instances
 * changing different records at once lose nothing
 */
const COLLECTIONS = {
  accounts: { prefix: 'accounts:account:', removed: 'accounts:removed:account:', schema: accountSchema },
  keys: { prefix: 'accounts:client-key:', removed: 'accounts:removed:client-key:', schema: clientKeySchema },
} as const;
type Kind = keyof typeof COLLECTIONS;
const KINDS = Object.keys(COLLECTIONS) as Kind[];

export const storeSchema = z.object({
  proxy: z.string().default(''),
  providers: z.record(z.string(), providerSchema).default({}),
  accounts: z.array(accountSchema).default([]),
  /** client keys (src/keys): hashes only */
  keys: z.array(clientKeySchema).default([]),
  aliases: z.record(z.string().min(1), z.string().min(1)).default({}),
  routes: modelRoutesSchema.default([]),
});

export const accountInputSchema = accountSchema;

/** the list with the record in place of the one with its id, or added at the end */
function upserted<T extends { id: string }>(list: readonly T[], record: T): T[] {
  const i = list.findIndex((r) => r.id === record.id);
  return i >= 0 ? list.map((r, j) => (j === i ? record : r)) : [...list, record];
}

function describe(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

export class AccountStore {
  private writing: Promise<void> = Promise.resolve();
  private changes = 0;
  private shared?: SharedState;
  /** the file did not exist: this store was just made empty, and is older than anything shared */
  private created = false;
  /** each record's version (`kind/id` -> ms), and those of records removed here or elsewhere */
  private readonly versions = new Map<string, number>();
  private readonly gone = new Map<string, number>();
  private metaAt = 0;
  /** the last version this instance made */
  private clock = 0;

  private constructor(
    readonly file: string,
    private data: StoreData,
  ) {}

  /** opens DATA_DIR/accounts.json, creating an empty one if there is none (a store that has the old example account keeps it: it is the user's data) */
  static async open(dataDir: string): Promise<AccountStore> {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const file = path.join(dataDir, 'accounts.json');
    // temp files of a write that a crash interrupted (the target itself is intact)
    for (const f of await readdir(dataDir)) if (f.startsWith('.accounts.json.') && f.endsWith('.tmp')) await rm(path.join(dataDir, f), { force: true });
    const created = !existsSync(file);
    if (created) await writeFileAtomic(file, `${JSON.stringify(storeSchema.parse({}), null, 2)}\n`);
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(file, 'utf8'));
    } catch (err) {
      throw new Error(`${file} is not valid JSON (${(err as Error).message}); fix or remove it.`);
    }
    const parsed = storeSchema.safeParse(raw);
    if (!parsed.success) throw new Error(`${file} is not a valid account store: ${describe(parsed.error)}`);
    for (const kind of KINDS) {
      const ids = new Set<string>();
      for (const r of parsed.data[kind]) {
        if (ids.has(r.id)) throw new Error(`${file}: ${kind === 'keys' ? 'key' : 'account'} id "${r.id}" appears twice`);
        ids.add(r.id);
      }
    }
    const store = new AccountStore(file, parsed.data as StoreData);
    store.created = created;
    return store;
  }

  /** an in-memory store (tests, stateless deployments) */
  static memory(data: Partial<StoreData> = {}): AccountStore {
    return new AccountStore('', storeSchema.parse(data) as StoreData);
  }

  get proxy(): string {
    return this.data.proxy;
  }

  settings(provider: string): StoreData['providers'][string] {
    return this.data.providers[provider] ?? {};
  }

  get aliases(): Record<string, string> {
    return this.data.aliases;
  }

  /** sets (or with no target removes) an alias and saves */
  async setAlias(alias: string, target: string | undefined): Promise<void> {
    const next = { ...this.data.aliases };
    if (target === undefined) delete next[alias];
    else next[alias] = target;
    this.data.aliases = next;
    await this.metaChanged();
  }

  get routes(): readonly ModelRoute[] {
    return this.data.routes;
  }

  /** replaces the stored routes (validated by the caller) and saves; shared like aliases */
  async setRoutes(routes: ModelRoute[]): Promise<void> {
    this.data.routes = routes;
    await this.metaChanged();
  }

  /** merges into a provider's settings (undefined values remove a key) and saves */
  async setSettings(provider: string, patch: Partial<StoreData['providers'][string]>): Promise<void> {
    const merged: Record<string, unknown> = { ...this.data.providers[provider], ...patch };
    for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
    this.data.providers = { ...this.data.providers, [provider]: merged };
    await this.metaChanged();
  }

  accounts(provider?: string): Account[] {
    return this.data.accounts.filter((a) => !provider || a.provider === provider);
  }

  get(id: string): Account | undefined {
    return this.data.accounts.find((a) => a.id === id);
  }

  snapshot(): StoreData {
    return structuredClone(this.data);
  }

  /** adds or replaces an account (validated) and saves */
  async upsert(input: unknown): Promise<Account> {
    const parsed = accountSchema.safeParse(input);
    if (!parsed.success) throw new Error(`invalid account: ${describe(parsed.error)}`);
    return this.put('accounts', parsed.data as Account);
  }

  async update(id: string, patch: Partial<Omit<Account, 'id'>>): Promise<Account> {
    const current = this.get(id);
    if (!current) throw new Error(`no account "${id}"`);
    return this.upsert({ ...current, ...patch, id });
  }

  remove(id: string): Promise<boolean> {
    return this.drop('accounts', id);
  }

  /** client keys (src/keys/): hashes, names, limits */
  get keys(): readonly ClientKey[] {
    return this.data.keys;
  }

  /** adds or replaces a client key (validated) and saves */
  async upsertKey(input: unknown): Promise<ClientKey> {
    const parsed = clientKeySchema.safeParse(input);
    if (!parsed.success) throw new Error(`invalid key: ${describe(parsed.error)}`);
    return this.put('keys', parsed.data);
  }

  removeKey(id: string): Promise<boolean> {
    return this.drop('keys', id);
  }

  /** one record in: a new list (what is derived from the old one can tell by identity), saved, shared */
  private async put<K extends Kind>(kind: K, record: StoreData[K][number]): Promise<StoreData[K][number]> {
    const at = this.stamp(this.held(kind, record.id)?.at);
    this.hold(kind, { at, record });
    await this.save();
    await this.publish({ op: 'upsert', kind, record, at });
    return record;
  }

  private async drop(kind: Kind, id: string): Promise<boolean> {
    const list = this.data[kind] as { id: string }[];
    if (!list.some((r) => r.id === id)) return false;
    const at = this.stamp(this.held(kind, id)?.at);
    this.release(kind, id, at);
    await this.save();
    await this.publish({ op: 'remove', kind, id, at });
    return true;
  }

  private async metaChanged(): Promise<void> {
    this.metaAt = this.stamp(this.metaAt);
    await this.save();
    await this.publish({ op: 'meta', meta: this.meta(), at: this.metaAt });
  }

  /** replaces everything (configuration import), validated first */
  async replace(input: unknown): Promise<void> {
    const parsed = storeSchema.safeParse(input);
    if (!parsed.success) throw new Error(`invalid configuration: ${describe(parsed.error)}`);
    const at = this.stamp(Math.max(this.metaAt, ...this.versions.values(), ...this.gone.values()));
    const before = this.data;
    this.data = parsed.data as StoreData;
    for (const kind of KINDS) {
      const ids = new Set((this.data[kind] as { id: string }[]).map((r) => r.id));
      for (const r of before[kind] as { id: string }[]) if (!ids.has(r.id)) this.gone.set(`${kind}/${r.id}`, at);
      for (const id of ids) {
        this.versions.set(`${kind}/${id}`, at);
        this.gone.delete(`${kind}/${id}`);
      }
    }
    this.metaAt = at;
    await this.save();
    if (this.shared) {
      await this.publishWhole(at).catch(() => {});
      await this.publish({ op: 'replace', data: this.data, at });
    }
  }

  /** a version past `than` and past every one this instance made (a change always supersedes what it changed) */
  private stamp(than = 0): number {
    this.clock = Math.max(Date.now(), than + 1, this.clock + 1);
    return this.clock;
  }

  /** what this instance holds of a record: its version with the record, or the version of its removal */
  private held(kind: Kind, id: string): Version | undefined {
    const record = (this.data[kind] as { id: string }[]).find((r) => r.id === id);
    if (record) return { at: this.versions.get(`${kind}/${id}`) ?? 0, record };
    const at = this.gone.get(`${kind}/${id}`);
    return at === undefined ? undefined : { at };
  }

  private hold(kind: Kind, v: Version & { record: { id: string } }): void {
    (this.data[kind] as { id: string }[]) = upserted(this.data[kind] as { id: string }[], v.record);
    this.versions.set(`${kind}/${v.record.id}`, v.at);
    this.gone.delete(`${kind}/${v.record.id}`);
  }

  private release(kind: Kind, id: string, at: number): void {
    (this.data[kind] as { id: string }[]) = (this.data[kind] as { id: string }[]).filter((r) => r.id !== id);
    this.versions.delete(`${kind}/${id}`);
    this.gone.set(`${kind}/${id}`, at);
  }

  /**
   * another instance's version of a record: taken when it is newer than what this one holds.
   * 'taken': the data changed; 'mine': this instance's is newer; 'same': nothing to do
   */
  private take(kind: Kind, id: string, theirs: Version): 'taken' | 'mine' | 'same' {
    const mine = this.held(kind, id);
    if (mine && !newer(theirs, mine)) return newer(mine, theirs) ? 'mine' : 'same';
    if (theirs.record) {
      this.hold(kind, { at: theirs.at, record: theirs.record });
      return 'taken';
    }
    this.release(kind, id, theirs.at);
    return mine?.record ? 'taken' : 'same';
  }

  private takeMeta(at: number, meta: unknown): 'taken' | 'mine' | 'same' {
    const parsed = storeSchema.safeParse({ ...(meta as object), accounts: [], keys: [] });
    if (!parsed.success) return 'same';
    const { accounts: _a, keys: _k, ...theirs } = parsed.data;
    const t = { at, json: JSON.stringify(theirs) };
    const m = { at: this.metaAt, json: JSON.stringify(this.meta()) };
    if (!newer(t, m)) return newer(m, t) ? 'mine' : 'same';
    this.data = { ...(theirs as Meta), accounts: this.data.accounts, keys: this.data.keys } as StoreData;
    this.metaAt = at;
    return 'taken';
  }

  /**
   * several instances: each change is announced as what changed (one record, or the settings),
   * never as the whole store, so two instances changing different accounts at once lose nothing;
   * every instance applies the others' changes and writes its own file. Redis also keeps each
   * record under its own key with its version (and a removed one's tombstone), for instances that
   * start later and for outages: at start, and whenever Redis returns after an outage or was found
   * empty, this store and Redis are merged record by record, the newest version winning (at start
   * this file counts as of when it was saved: what it lacks and Redis has from before was removed).
   */
  async share(shared: SharedState): Promise<void> {
    if (shared.kind !== 'redis') return;
    this.shared = shared;
    const mtime = this.file && !this.created ? ((await stat(this.file).catch(() => undefined))?.mtimeMs ?? 0) : 0;
    const fileAt = Math.floor(mtime);
    for (const kind of KINDS) for (const r of this.data[kind] as { id: string }[]) this.versions.set(`${kind}/${r.id}`, fileAt);
    this.metaAt = fileAt;
    await shared.subscribe('accounts', (m) => {
      if (m.from !== shared.instanceId) this.applyRemote(m as unknown as StoreChange);
    });
    await this.merge(shared.direct ?? shared, fileAt);
    // after an outage: what changed here meanwhile goes out, what changed elsewhere comes in
    shared.onResync?.(['accounts:'], (remote) => this.merge(remote));
  }

  /**
   * this store and Redis, record by record: Redis's newer versions are taken, this store's newer
   * ones written and announced. `fileAt` (at start): a record this store does not have counts as
   * removed when the file was saved. Returns how many records of each kind were written.
   */
  private async merge(remote: SharedState, fileAt?: number): Promise<Record<string, number>> {
    const savedAt = (await remote.getJson<number>(SAVED_AT_KEY)) ?? 0;
    const out: StoreChange[] = [];
    const counts: Record<string, number> = {};
    let changed = false;
    for (const kind of KINDS) {
      const { prefix, removed, schema } = COLLECTIONS[kind];
      const theirs = new Map<string, Version>();
      for (const [, v] of await remote.scanJson<Record<string, unknown>>(prefix)) {
        const r = schema.safeParse(v);
        // a record written before versions were kept dates from the last save
        if (r.success) theirs.set(r.data.id, { at: typeof v._at === 'number' ? v._at : savedAt, record: r.data });
      }
      for (const [key, v] of await remote.scanJson<{ at?: number }>(removed)) {
        const id = key.slice(removed.length);
        const at = typeof v?.at === 'number' ? v.at : 0;
        if (!theirs.has(id) || at > theirs.get(id)!.at) theirs.set(id, { at });
      }
      // this store's order first, then the new ones by id
      const ids = new Set([...(this.data[kind] as { id: string }[]).map((r) => r.id), ...[...this.gone.keys()].filter((k) => k.startsWith(`${kind}/`)).map((k) => k.slice(kind.length + 1)), ...[...theirs.keys()].sort()]);
      for (const id of ids) {
        const t = theirs.get(id);
        const mine = this.held(kind, id) ?? (fileAt !== undefined ? { at: fileAt } : undefined);
        if (t && (!mine || newer(t, mine))) {
          if (this.take(kind, id, t) === 'taken') changed = true;
        } else if (mine && (t ? newer(mine, t) : mine.record)) {
          out.push(mine.record ? { op: 'upsert', kind, record: mine.record, at: mine.at } : { op: 'remove', kind, id, at: mine.at });
          counts[kind] = (counts[kind] ?? 0) + 1;
        }
      }
    }
    const meta = await remote.getJson<Record<string, unknown>>(META_KEY);
    const taken = meta ? this.takeMeta(typeof meta._at === 'number' ? meta._at : savedAt, meta) : 'mine';
    if (taken === 'taken') changed = true;
    else if (taken === 'mine') {
      out.push({ op: 'meta', meta: this.meta(), at: this.metaAt });
      counts.settings = 1;
    }
    if (out.length) {
      await Promise.all(out.map((c) => this.write(remote, c)));
      await remote.setJson(SAVED_AT_KEY, Date.now());
      for (const c of out) await remote.publish('accounts', { from: remote.instanceId, ...c });
    }
    if (changed) await this.save().catch(() => {});
    return counts;
  }

  private applyRemote(change: StoreChange): void {
    // a notice without a version (an older cligate) is news
    const at = typeof change.at === 'number' ? change.at : this.stamp();
    let changed = false;
    const one = (kind: Kind, id: string, v: Version) => {
      const r = this.take(kind, id, v);
      if (r === 'taken') changed = true;
      // what was announced is older than what this instance holds: Redis and the others get this one
      else if (r === 'mine') void this.reshare(kind, id);
    };
    if (change.op === 'upsert') {
      if (!Object.hasOwn(COLLECTIONS, change.kind)) return;
      const r = COLLECTIONS[change.kind].schema.safeParse(change.record);
      if (!r.success) return;
      one(change.kind, r.data.id, { at, record: r.data });
    } else if (change.op === 'remove') {
      if (!Object.hasOwn(COLLECTIONS, change.kind)) return;
      one(change.kind, change.id, { at });
    } else if (change.op === 'meta') {
      if (this.takeMeta(at, change.meta) === 'taken') changed = true;
    } else if (change.op === 'replace') {
      const parsed = storeSchema.safeParse(change.data);
      if (!parsed.success) return;
      for (const kind of KINDS) {
        const list = parsed.data[kind] as { id: string }[];
        const ids = new Set(list.map((r) => r.id));
        for (const record of list) one(kind, record.id, { at, record });
        for (const r of this.data[kind] as { id: string }[]) if (!ids.has(r.id)) one(kind, r.id, { at });
      }
      const { accounts: _a, keys: _k, ...meta } = parsed.data;
      if (this.takeMeta(at, meta) === 'taken') changed = true;
    }
    if (changed) void this.save().catch(() => {});
  }

  private meta(): Meta {
    const { accounts: _a, keys: _k, ...meta } = this.data;
    return meta;
  }

  /** this instance's version of a record, to Redis and the others */
  private async reshare(kind: Kind, id: string): Promise<void> {
    const mine = this.held(kind, id);
    if (mine) await this.publish(mine.record ? { op: 'upsert', kind, record: mine.record, at: mine.at } : { op: 'remove', kind, id, at: mine.at });
  }

  /** a change into Redis: the record (or tombstone) with its version */
  private async write(shared: SharedState, change: StoreChange): Promise<void> {
    if (change.op === 'upsert') {
      const { prefix, removed } = COLLECTIONS[change.kind];
      await shared.setJson(prefix + change.record.id, { ...change.record, _at: change.at });
      await shared.del(removed + change.record.id);
    } else if (change.op === 'remove') {
      const { prefix, removed } = COLLECTIONS[change.kind];
      await shared.setJson(removed + change.id, { at: change.at }, TOMBSTONE_TTL_MS);
      await shared.del(prefix + change.id);
    } else if (change.op === 'meta') await shared.setJson(META_KEY, { ...change.meta, _at: change.at });
  }

  /** tells the other instances, and keeps the shared copy current */
  private async publish(change: StoreChange): Promise<void> {
    const shared = this.shared;
    if (!shared) return;
    try {
      await this.write(shared, change);
      await shared.setJson(SAVED_AT_KEY, Date.now());
      await shared.publish('accounts', { from: shared.instanceId, ...change });
    } catch {
      // Redis unreachable: this instance's file still has the change, and the next merge (when Redis is back) shares it
    }
  }

  /** the whole store into shared state (an import): every record at version `at`, what it lacks removed */
  private async publishWhole(at: number): Promise<void> {
    const shared = this.shared;
    if (!shared) return;
    for (const kind of KINDS) {
      const { prefix } = COLLECTIONS[kind];
      const list = this.data[kind] as { id: string }[];
      const ids = new Set(list.map((r) => r.id));
      for (const [key] of await shared.scanJson(prefix)) if (!ids.has(key.slice(prefix.length))) await this.write(shared, { op: 'remove', kind, id: key.slice(prefix.length), at });
      for (const record of list) await this.write(shared, { op: 'upsert', kind, record, at });
    }
    await this.write(shared, { op: 'meta', meta: this.meta(), at });
    await shared.setJson(SAVED_AT_KEY, Date.now());
  }

  /** writes are queued: each sees the data as it is when its turn comes */
  /** goes up with every change, local or from another instance (what is derived from the store can tell it is stale) */
  get revision(): number {
    return this.changes;
  }

  save(): Promise<void> {
    // every change, local or remote, is saved: the one place that counts them
    this.changes++;
    if (!this.file) return Promise.resolve();
    const next = this.writing.then(() => writeFileAtomic(this.file, `${JSON.stringify(this.data, null, 2)}\n`));
    this.writing = next.catch(() => {});
    return next;
  }
}
