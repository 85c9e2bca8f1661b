/**
 * Durability: the server (as `npm start` runs it) is killed with SIGKILL while it writes
 * the configuration (PUT /api/config) and while it writes accounts (many PATCHes queued),
 * again and again at random moments. After each kill the store file parses and holds
 * either the old or the new state, never a mix or a torn file; the next start sweeps
 * the temp files a kill left.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnServer, type ServerProcess } from '../helpers/server-process.js';

const PASSWORD = 'durable-admin';
const ACCOUNTS = 300;
const ROUNDS = Number(process.env.DURABILITY_ROUNDS ?? 8);

let home: string;
let dataDir: string;

function store(version: number) {
  return {
    proxy: '',
    providers: { kiro: { models: [`v${version}`] } },
    aliases: {},
    accounts: Array.from({ length: ACCOUNTS }, (_, i) => ({
      id: `acc-${i}`,
      provider: 'kiro',
      label: `v${version}`,
      enabled: true,
      weight: version,
      credentials: { refresh_token: `rt-${i}-${'x'.repeat(200)}`, auth_method: 'social' },
    })),
  };
}

async function start(): Promise<{ server: ServerProcess; token: string }> {
  const server = await spawnServer({ HOME: home, DATA_DIR: dataDir, ADMIN_PASSWORD: PASSWORD, LOG_LEVEL: 'info', RATE_LIMIT_ENABLED: 'false', PATH: process.env.PATH ?? '' });
  const r = await fetch(`${server.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: PASSWORD }) });
  return { server, token: ((await r.json()) as any).token };
}

async function kill(server: ServerProcess): Promise<void> {
  server.child.kill('SIGKILL');
  await server.exited;
}

/**
 * the moment to kill: on even rounds the first sight of a temp file (a write in progress),
 * on odd ones a random delay (before, between or after writes)
 */
async function killMoment(round: number): Promise<'mid-write' | 'random'> {
  if (round % 2 === 1) {
    await sleep(Math.floor(Math.random() * 200));
    return 'random';
  }
  const end = Date.now() + 3000;
  while (Date.now() < end) {
    if ((await readdir(dataDir)).some((f) => f.startsWith('.accounts.json.') && f.endsWith('.tmp'))) return 'mid-write';
    await new Promise((r) => setImmediate(r));
  }
  return 'random';
}

async function onDisk(): Promise<any> {
  const text = await readFile(path.join(dataDir, 'accounts.json'), 'utf8');
  return JSON.parse(text); // throws on a torn file
}

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'cligate-durable-'));
  dataDir = path.join(home, 'data');
  await mkdir(dataDir, { recursive: true });
  await writeFile(path.join(dataDir, 'accounts.json'), JSON.stringify(store(0)));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('kill -9 during writes', () => {
  it(`configuration imports: ${ROUNDS} kills, the file is always the old or the new configuration`, async () => {
    const outcomes = { old: 0, new: 0, midWrite: 0 };
    let committed = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      const { server, token } = await start();
      expect((await onDisk()).accounts[0].label).toBe(`v${committed}`);
      // several imports in a row, the kill lands somewhere among them
      const sent = [round * 10 + 1, round * 10 + 2, round * 10 + 3];
      for (const v of sent) void fetch(`${server.url}/api/config`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ store: store(v) }) }).catch(() => {});
      const moment = await killMoment(round);
      await kill(server);
      if (moment === 'mid-write') outcomes.midWrite++;
      const disk = await onDisk();
      const version = Number(String(disk.accounts[0].label).slice(1));
      expect([committed, ...sent]).toContain(version);
      // one state, not a mix: every account and the settings carry the same version
      expect(new Set(disk.accounts.map((a: any) => a.label))).toEqual(new Set([`v${version}`]));
      expect(disk.providers.kiro.models).toEqual([`v${version}`]);
      expect(disk.accounts).toHaveLength(ACCOUNTS);
      outcomes[version === committed ? 'old' : 'new']++;
      committed = version;
    }
    console.log(`DURABILITY config ${JSON.stringify(outcomes)}`);
    // some kills did land while a write was under way
    expect(outcomes.midWrite).toBeGreaterThan(0);
    // the next start sweeps what the kills left
    const { server } = await start();
    expect((await readdir(dataDir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await kill(server);
  }, 300_000);

  it(`account edits: ${ROUNDS} kills among queued writes, every account holds one of the states it went through`, async () => {
    let midWrite = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      const before = await onDisk();
      const oldWeights = new Map(before.accounts.map((a: any) => [a.id, a.weight]));
      const { server, token } = await start();
      const target = 1000 + round;
      for (let i = 0; i < 60; i++) void fetch(`${server.url}/api/accounts/acc-${i}`, { method: 'PATCH', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ weight: target }) }).catch(() => {});
      if ((await killMoment(round)) === 'mid-write') midWrite++;
      await kill(server);
      const disk = await onDisk();
      expect(disk.accounts).toHaveLength(ACCOUNTS);
      for (const a of disk.accounts) expect([oldWeights.get(a.id), target]).toContain(a.weight);
      for (const a of disk.accounts.slice(60)) expect(a.weight).toBe(oldWeights.get(a.id));
    }
    console.log(`DURABILITY accounts ${JSON.stringify({ rounds: ROUNDS, midWrite })}`);
    expect(midWrite).toBeGreaterThan(0);
  }, 300_000);
});
