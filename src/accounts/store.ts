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

/** one change to the store, as instances tell each other */
type StoreChange =
  | { op: 'upsert'; kind: Kind; record: { id: string } }
  | { op: 'remove'; kind: Kind; id: string }
  | { op: 'meta'; meta: Meta }
  | { op: 'replace'; data: StoreData };

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
  accounts: { prefix: 'accounts:account:', schema: accountSchema },
  keys: { prefix: 'accounts:client-key:', schema: clientKeySchema },
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
    if (!existsSync(file)) await writeFileAtomic(file, `${JSON.stringify(storeSchema.parse({}), null, 2)}\n`);
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
    return new AccountStore(file, parsed.data as StoreData);
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
    await this.save();
    await this.publish({ op: 'meta', meta: this.meta() });
  }

  get routes(): readonly ModelRoute[] {
    return this.data.routes;
  }

  /** replaces the stored routes (validated by the caller) and saves; shared like aliases */
  async setRoutes(routes: ModelRoute[]): Promise<void> {
    this.data.routes = routes;
    await this.save();
    await this.publish({ op: 'meta', meta: this.meta() });
  }

  /** merges into a provider's settings (undefined values remove a key) and saves */
  async setSettings(provider: string, patch: Partial<StoreData['providers'][string]>): Promise<void> {
    const merged: Record<string, unknown> = { ...this.data.providers[provider], ...patch };
    for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
    this.data.providers = { ...this.data.providers, [provider]: merged };
    await this.save();
    await this.publish({ op: 'meta', meta: this.meta() });
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
    (this.data[kind] as { id: string }[]) = upserted(this.data[kind] as { id: string }[], record);
    await this.save();
    await this.publish({ op: 'upsert', kind, record });
    return record;
  }

  private async drop(kind: Kind, id: string): Promise<boolean> {
    const list = this.data[kind] as { id: string }[];
    if (!list.some((r) => r.id === id)) return false;
    (this.data[kind] as { id: string }[]) = list.filter((r) => r.id !== id);
    await this.save();
    await this.publish({ op: 'remove', kind, id });
    return true;
  }

  /** replaces everything (configuration import), validated first */
  async replace(input: unknown): Promise<void> {
    const parsed = storeSchema.safeParse(input);
    if (!parsed.success) throw new Error(`invalid configuration: ${describe(parsed.error)}`);
    this.data = parsed.data as StoreData;
    await this.save();
    if (this.shared) {
      await this.publishWhole().catch(() => {});
      await this.publish({ op: 'replace', data: this.data });
    }
  }

  /**
   * several instances: each change is announced as what changed (one account, or the
   * settings), never as the whole store, so two instances changing different accounts
   * at once lose nothing; every instance applies the others' changes and writes its own
   * file. Shared state also keeps each account under its own key, for instances that
   * start later: at start the newer of the file and the shared copy wins.
   */
  async share(shared: SharedState): Promise<void> {
    if (shared.kind !== 'redis') return;
    this.shared = shared;
    const mtime = this.file ? ((await stat(this.file).catch(() => undefined))?.mtimeMs ?? 0) : 0;
    await shared.subscribe('accounts', (m) => {
      if (m.from !== shared.instanceId) this.applyRemote(m as unknown as StoreChange);
    });
    const savedAt = (await shared.getJson<number>(SAVED_AT_KEY)) ?? 0;
    if (savedAt > mtime) {
      const meta = await shared.getJson<Meta>(META_KEY);
      const lists: Partial<Record<Kind, { id: string }[]>> = {};
      for (const kind of KINDS) {
        const records = (await shared.scanJson<{ id: string }>(COLLECTIONS[kind].prefix)).map(([, r]) => r);
        // this file's order first, then the new ones by id
        const order = new Map((this.data[kind] as { id: string }[]).map((r, i) => [r.id, i]));
        records.sort((x, y) => (order.get(x.id) ?? Infinity) - (order.get(y.id) ?? Infinity) || x.id.localeCompare(y.id));
        lists[kind] = records;
      }
      const parsed = storeSchema.safeParse({ ...meta, ...lists });
      if (parsed.success) {
        this.data = parsed.data as StoreData;
        await this.save();
        return;
      }
    }
    // this file is newer than what the others hold: it becomes everyone's
    await this.publishWhole();
    await this.publish({ op: 'replace', data: this.data });
  }

  private applyRemote(change: StoreChange): void {
    if (change.op === 'upsert') {
      if (!Object.hasOwn(COLLECTIONS, change.kind)) return;
      const r = COLLECTIONS[change.kind].schema.safeParse(change.record);
      if (!r.success) return;
      (this.data[change.kind] as { id: string }[]) = upserted(this.data[change.kind] as { id: string }[], r.data);
    } else if (change.op === 'remove') {
      if (!Object.hasOwn(COLLECTIONS, change.kind)) return;
      (this.data[change.kind] as { id: string }[]) = (this.data[change.kind] as { id: string }[]).filter((x) => x.id !== change.id);
    } else if (change.op === 'meta') {
      const parsed = storeSchema.safeParse({ ...change.meta, accounts: [], keys: [] });
      if (!parsed.success) return;
      this.data = { ...parsed.data, accounts: this.data.accounts, keys: this.data.keys } as StoreData;
    } else if (change.op === 'replace') {
      const parsed = storeSchema.safeParse(change.data);
      if (!parsed.success) return;
      this.data = parsed.data as StoreData;
    }
    void this.save().catch(() => {});
  }

  private meta(): Meta {
    const { accounts: _a, keys: _k, ...meta } = this.data;
    return meta;
  }

  /** tells the other instances, and keeps the shared copy current */
  private async publish(change: StoreChange): Promise<void> {
    const shared = this.shared;
    if (!shared) return;
    try {
      if (change.op === 'upsert') await shared.setJson(COLLECTIONS[change.kind].prefix + change.record.id, change.record);
      else if (change.op === 'remove') await shared.del(COLLECTIONS[change.kind].prefix + change.id);
      else if (change.op === 'meta') await shared.setJson(META_KEY, change.meta);
      await shared.setJson(SAVED_AT_KEY, Date.now());
      await shared.publish('accounts', { from: shared.instanceId, ...change });
    } catch {
      // Redis unreachable: this instance's file still has the change
    }
  }

  /** the whole store into shared state (first instance, an import) */
  private async publishWhole(): Promise<void> {
    const shared = this.shared;
    if (!shared) return;
    for (const kind of KINDS) {
      const { prefix } = COLLECTIONS[kind];
      const list = this.data[kind] as { id: string }[];
      const ids = new Set(list.map((r) => r.id));
      for (const [key] of await shared.scanJson(prefix)) if (!ids.has(key.slice(prefix.length))) await shared.del(key);
      for (const r of list) await shared.setJson(prefix + r.id, r);
    }
    await shared.setJson(META_KEY, this.meta());
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
