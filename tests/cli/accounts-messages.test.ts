/**
 * The accounts commands never leave a newcomer guessing: `add` without an OAuth client says what to set
 * and where a client comes from; `verify` with nothing to verify says so and how each pool gets accounts;
 * a fresh store is empty (the example account is no longer copied in). Real CLI processes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

const ROOT = path.resolve(import.meta.dirname, '../..');
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function home(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'cligate-accounts-msg-'));
  dirs.push(d);
  return d;
}
const cli = (h: string, args: string[], extra: Record<string, string> = {}) =>
  execa(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/accounts.ts'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: h, DATA_DIR: path.join(h, 'data'), ...extra },
    extendEnv: false,
    reject: false,
    timeout: 30_000,
  });

describe('accounts commands say what to do', () => {
  it('add without an OAuth client: exit 2, names both variables, the three kinds of client and the redirect', async () => {
    const h = await home();
    const r = await cli(h, ['add']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/CLOUDCODE_OAUTH_CLIENT_ID and CLOUDCODE_OAUTH_CLIENT_SECRET are not set/);
    expect(r.stderr).toMatch(/Antigravity's installed-app client/);
    expect(r.stderr).toMatch(/Gemini CLI's installed-app client/);
    expect(r.stderr).toMatch(/"Desktop app"/);
    expect(r.stderr).toMatch(/http:\/\/localhost:<port>\/oauth-callback/);
    // only the secret missing: says just that one
    const one = await cli(h, ['add'], { CLOUDCODE_OAUTH_CLIENT_ID: 'id.apps.googleusercontent.com' });
    expect(one.exitCode).toBe(2);
    expect(one.stderr).toMatch(/^accounts add: CLOUDCODE_OAUTH_CLIENT_SECRET is not set/);
  });

  it('verify on a fresh store: no accounts, how to add one to each pool; the new store is empty', async () => {
    const h = await home();
    const r = await cli(h, ['verify']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^No accounts to verify: .*accounts\.json has none\./m);
    for (const pool of ['cloudcode', 'kiro', 'gemini-enterprise']) expect(r.stdout).toMatch(new RegExp(`^  ${pool} \\(`, 'm'));
    expect(r.stdout).toMatch(/npm run accounts:add/);
    const stored = JSON.parse(await readFile(path.join(h, 'data', 'accounts.json'), 'utf8')) as { accounts: unknown[] };
    expect(stored.accounts).toEqual([]);
    const list = await cli(h, ['list']);
    expect(list.stdout).not.toMatch(/business-1/);
  });

  it('verify with only other pools’ accounts says verify checks Cloud Code and where the others are tested', async () => {
    const h = await home();
    await mkdir(path.join(h, 'data'));
    await writeFile(path.join(h, 'data', 'accounts.json'), await readFile(path.join(ROOT, 'config/accounts.example.json')));
    const r = await cli(h, ['verify']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/No Cloud Code accounts in .*: verify checks Cloud Code accounts .* The 1 other account \(gemini-enterprise\) is tested in the console/);
  });
});
