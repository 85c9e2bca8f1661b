/**
 * The account store shared by several instances through a real redis-server: record by record, the
 * newest version wins, in notices, through an outage (each side changed, Redis back empty) and at
 * start (the file as of when it was saved; a store just created is older than anything shared).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { AccountStore } from '../../src/accounts/store.js';
import { RedisState } from '../../src/state/redis-state.js';
import { ResilientState } from '../../src/state/resilient-state.js';
import { hasRedisServer, startRedis, type TestRedis } from '../helpers/redis.js';

const available = hasRedisServer();
if (!available && process.env.CI) throw new Error('redis-server is missing: .ci/run installs it');

let redis: TestRedis;
let states: ResilientState[] = [];
const dirs: string[] = [];
let prefix = 0;

beforeAll(async () => {
  if (available) redis = await startRedis();
});
afterEach(async () => {
  await redis?.start();
  for (const s of states) await s.close();
  states = [];
  prefix++;
});
afterAll(async () => {
  await redis?.close();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function shared(): Promise<ResilientState> {
  const s = await ResilientState.create(await RedisState.connect(redis.url, `st${prefix}:`), { deadlineMs: 200, log: pino({ level: 'silent' }), heartbeatMs: 200, probeMs: 50, graceMs: 200 });
  states.push(s);
  return s;
}

const account = (id: string, extra: object = {}) => ({ id, provider: 'kiro', enabled: true, weight: 100, credentials: { refresh_token: `rt-${id}` }, ...extra });
const view = (s: AccountStore) => s.accounts().map((a) => `${a.id}:${a.weight}:${a.label ?? ''}`);

async function fileStore(accounts: object[], mtime?: Date): Promise<AccountStore> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cligate-store-share-'));
  dirs.push(dir);
  await writeFile(path.join(dir, 'accounts.json'), JSON.stringify({ accounts }));
  if (mtime) await utimes(path.join(dir, 'accounts.json'), mtime, mtime);
  return AccountStore.open(dir);
}

describe.skipIf(!available)('the account store across instances', () => {
  it('changed on both sides during an outage, Redis back empty: the newest version of each record wins on both, and Redis holds it', async () => {
    const a = AccountStore.memory({ accounts: [account('x'), account('y'), account('z')] });
    const b = AccountStore.memory();
    const sa = await shared();
    const sb = await shared();
    await a.share(sa);
    await b.share(sb);
    expect(view(b)).toEqual(view(a));
    await redis.kill();
    await a.update('x', { weight: 1 });
    await b.remove('y');
    await new Promise((r) => setTimeout(r, 5));
    await b.update('x', { weight: 2 }); // later than A's
    await a.update('z', { label: 'from A' });
    await b.upsert(account('w'));
    await redis.start();
    const expected = ['x:2:', 'z:100:from A', 'w:100:'];
    await expect.poll(() => view(a).sort(), { timeout: 10_000 }).toEqual([...expected].sort());
    await expect.poll(() => view(b).sort(), { timeout: 10_000 }).toEqual([...expected].sort());
    const keys = (await redis.client.keys(`st${prefix}:accounts:account:*`)).map((k) => k.split(':').pop()).sort();
    expect(keys).toEqual(['w', 'x', 'z']);
    expect(JSON.parse((await redis.client.get(`st${prefix}:accounts:account:x`))!)).toMatchObject({ weight: 2 });
    expect(await redis.client.exists(`st${prefix}:accounts:removed:account:y`)).toBe(1);
  });

  it('an older notice is answered with the newer version (Redis and every instance end with it)', async () => {
    const a = AccountStore.memory({ accounts: [account('x')] });
    const b = AccountStore.memory();
    const sa = await shared();
    const sb = await shared();
    await a.share(sa);
    await b.share(sb);
    await a.update('x', { weight: 5 });
    await expect.poll(() => view(b)).toEqual(['x:5:']);
    // a stale write (as from a command that reached Redis late) with an old version
    await sb.publish('accounts', { from: 'someone', op: 'upsert', kind: 'accounts', record: account('x', { weight: 9, enabled: true }), at: 1 });
    await new Promise((r) => setTimeout(r, 200));
    expect(view(a)).toEqual(['x:5:']);
    expect(view(b)).toEqual(['x:5:']);
    expect(JSON.parse((await redis.client.get(`st${prefix}:accounts:account:x`))!)).toMatchObject({ weight: 5 });
  });

  it('at start: a store just created takes everything shared; an older file takes the newer records; a newer file wins, and what it lacks is removed', async () => {
    const first = await fileStore([account('x'), account('y')], new Date(Date.now() - 60_000));
    await first.share(await shared());
    await first.update('y', { weight: 3 }); // y is newer in Redis than any file saved before now
    const fresh = await AccountStore.open(await mkdtemp(path.join(os.tmpdir(), 'cligate-store-share-')).then((d) => (dirs.push(d), d)));
    await fresh.share(await shared());
    expect(view(fresh)).toEqual(['x:100:', 'y:3:']);
    const old = await fileStore([account('x', { weight: 50 }), account('y', { weight: 60 })], new Date('2020-01-01'));
    await old.share(await shared());
    expect(view(old)).toEqual(['x:100:', 'y:3:']);
    // saved after everything else: its x wins and y, which it lacks, goes everywhere
    const newer = await fileStore([account('x', { weight: 70 })]);
    await newer.share(await shared());
    expect(view(newer)).toEqual(['x:70:']);
    await expect.poll(() => view(first)).toEqual(['x:70:']);
    await expect.poll(() => view(fresh)).toEqual(['x:70:']);
  });
});
