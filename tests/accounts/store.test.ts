/** The account store: atomic writes that survive a kill, first-run example, validation, masking. */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { AccountStore } from '../../src/accounts/store.js';
import { maskAccount } from '../../src/accounts/mask.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const dirs: string[] = [];
async function tmpdir(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'cligate-store-test-'));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('AccountStore', () => {
  it('first run makes an empty store (no example account); changes persist and reload', async () => {
    const dir = await tmpdir();
    const data = path.join(dir, 'data');
    const store = await AccountStore.open(data);
    expect(store.accounts()).toEqual([]);
    expect(JSON.parse(await readFile(path.join(data, 'accounts.json'), 'utf8'))).toMatchObject({ accounts: [] });
    await store.upsert({ id: 'ex', provider: 'p', credentials: { k: 'v' } });
    expect(store.get('ex')).toMatchObject({ enabled: true, weight: 100 });
    await store.upsert({ id: 'two', provider: 'p', weight: 5, credentials: { token: 'abc' } });
    await store.update('ex', { enabled: false });
    const again = await AccountStore.open(data);
    expect(again.accounts().map((a) => [a.id, a.enabled, a.weight])).toEqual([
      ['ex', false, 100],
      ['two', true, 5],
    ]);
  });

  it('a store that already holds the example account (copied in by older versions) keeps it', async () => {
    const dir = await tmpdir();
    const example = path.resolve(import.meta.dirname, '../../config/accounts.example.json');
    await writeFile(path.join(dir, 'accounts.json'), await readFile(example));
    const store = await AccountStore.open(dir);
    expect(store.accounts().map((a) => [a.id, a.provider, a.enabled])).toEqual([['business-1', 'gemini-enterprise', false]]);
  });

  it('a broken file is an error naming the file and the field, never silently replaced', async () => {
    const dir = await tmpdir();
    await writeFile(path.join(dir, 'accounts.json'), JSON.stringify({ accounts: [{ id: 'x', provider: 'p', weight: 'heavy' }] }));
    await expect(AccountStore.open(dir)).rejects.toThrow(/accounts\.json.*accounts\.0\.weight/);
    await writeFile(path.join(dir, 'accounts.json'), '{"accounts": [');
    await expect(AccountStore.open(dir)).rejects.toThrow(/not valid JSON/);
    expect(await readFile(path.join(dir, 'accounts.json'), 'utf8')).toBe('{"accounts": [');
  });

  it('a writer killed mid-write never leaves a torn file; stale temp files are swept on open', async () => {
    const dir = await tmpdir();
    const file = path.join(dir, 'accounts.json');
    // each version is ~2 MB of one repeated digit, so a torn write would show mixed content
    const script = `
      import { writeFileAtomic } from ${JSON.stringify(path.join(ROOT, 'src/accounts/atomic-file.ts'))};
      let i = 0;
      for (;;) {
        const d = String(i++ % 10);
        await writeFileAtomic(${JSON.stringify(file)}, JSON.stringify({ proxy: '', providers: {}, accounts: [], pad: d.repeat(2_000_000) }));
      }`;
    let checked = 0;
    for (let round = 0; round < 6; round++) {
      const before = (await stat(file).catch(() => undefined))?.mtimeMs ?? 0;
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, stdio: 'ignore' });
      // the writer is writing once its first file is in (a loaded machine takes its time to start it), then killed at some point of a later write
      await expect.poll(async () => (await stat(file).catch(() => undefined))?.mtimeMs ?? 0, { timeout: 60_000, interval: 20 }).toBeGreaterThan(before);
      await sleep(5 + round * 37);
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const text = await readFile(file, 'utf8').catch(() => '');
      const parsed = JSON.parse(text) as { pad: string };
      expect(parsed.pad).toMatch(/^(\d)\1*$/);
      expect(parsed.pad.length).toBe(2_000_000);
      checked++;
    }
    expect(checked).toBe(6);
    await AccountStore.open(dir);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }, 240_000);

  it('masking hides every credential and a proxy password', () => {
    const masked = maskAccount({
      id: 'a',
      provider: 'p',
      enabled: true,
      weight: 100,
      proxy: 'http://user:hunter2@proxy.local:8080',
      credentials: { secure_c_ses: 'CSE.AbCdEfGhIjKlMnOp', short: 'abc' },
    });
    expect(JSON.stringify(masked)).not.toMatch(/AbCdEfGhIjKlMnOp|hunter2/);
    expect(masked.credentials.secure_c_ses).toBe('CSE…MnOp'.replace('MnOp', 'nOp'));
    expect(masked.credentials.short).toBe('***');
  });
});
