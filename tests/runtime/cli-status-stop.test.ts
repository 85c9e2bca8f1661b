/**
 * A CLI's status probe (`<cli> --version`) still running when the server closes is ended with it:
 * the Gemini CLI's --version creates ~/.gemini, and a probe outliving the server wrote into a HOME
 * that had already been removed.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cachedProbe } from '../../src/runtime/cli-status.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('cachedProbe.stop', () => {
  it('ends a running --version probe (its process is gone once stop resolves) and starts no more', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'cligate-probe-stop-'));
    dirs.push(dir);
    const cli = path.join(dir, 'slow-cli');
    // says it started (its pid), then takes its time, as a CLI booting its runtime does
    await writeFile(cli, `#!/bin/sh\necho $$ > "${dir}/started"\nexec sleep 300\n`);
    await chmod(cli, 0o755);
    const probe = cachedProbe({ id: 'slow-cli', cliPath: cli, env: { PATH: '/usr/bin:/bin', HOME: dir }, credentials: { env: [], homeFiles: [], login: 'slow-cli login' } }, 60_000);
    const pending = probe();
    await expect.poll(() => existsSync(path.join(dir, 'started'))).toBe(true);
    const pid = Number((await readFile(path.join(dir, 'started'), 'utf8')).trim());
    expect(alive(pid)).toBe(true);
    await probe.stop();
    expect(alive(pid)).toBe(false);
    expect((await pending).available).toBe(false);
    // closed: no new probe is started
    expect(await probe()).toMatchObject({ available: false, detail: { reason: 'the server is shutting down' } });
  });
});
