/** Delayed, persisted session cleanup: removes only what it was given, after the delay, across restarts. */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SessionCleanup } from '../../src/runtime/session-cleanup.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const root = mkdtempSync(path.join(os.tmpdir(), 'cligate-cleanup-test-'));
const made: SessionCleanup[] = [];
afterEach(() => made.splice(0).forEach((c) => c.close()));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function session(name: string): string {
  const dir = path.join(root, 'home', '.claude', 'projects', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 's.jsonl'), '{}');
  return dir;
}
function cleanup(opts: Partial<ConstructorParameters<typeof SessionCleanup>[0]> = {}) {
  const c = new SessionCleanup({ enabled: true, delayMs: 150, stateDir: path.join(root, 'state'), ...opts });
  made.push(c);
  return c;
}

describe('SessionCleanup', () => {
  it('removes scheduled paths after the delay, not before, and never anything else', async () => {
    const c = cleanup();
    await c.start();
    const ours = session('-tmp-cligate-1');
    const theirs = session('-home-me-project');
    await c.schedule([ours]);
    expect(existsSync(ours)).toBe(true);
    await sleep(400);
    expect(existsSync(ours)).toBe(false);
    expect(existsSync(theirs)).toBe(true);
  });

  it('delay 0 removes right after the request', async () => {
    const c = cleanup({ delayMs: 0 });
    const ours = session('-tmp-cligate-2');
    await c.schedule([ours]);
    expect(existsSync(ours)).toBe(false);
  });

  it('survives a restart: the pending list is persisted and the start-up sweep removes what is overdue', async () => {
    const stateDir = path.join(root, 'state-restart');
    const first = cleanup({ delayMs: 200, stateDir });
    await first.start();
    const ours = session('-tmp-cligate-3');
    await first.schedule([ours]);
    first.close(); // the server stops before the delay has passed
    await sleep(300);
    expect(existsSync(ours)).toBe(true);
    const second = cleanup({ delayMs: 200, stateDir });
    await second.start();
    expect(existsSync(ours)).toBe(false);
    expect(second.size).toBe(0);
  });

  it('with cleanup off nothing is scheduled, so later runs never touch those sessions', async () => {
    const stateDir = path.join(root, 'state-off');
    const off = cleanup({ enabled: false, delayMs: 0, stateDir });
    const made = session('-tmp-cligate-4');
    await off.schedule([made]);
    const on = cleanup({ enabled: true, delayMs: 0, stateDir });
    await on.start();
    expect(existsSync(made)).toBe(true);
  });

  it('an unreadable state file is treated as an empty list', async () => {
    const stateDir = path.join(root, 'state-bad');
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(path.join(stateDir, 'pending-session-cleanups.json'), '{not json');
    const c = cleanup({ stateDir });
    await expect(c.start()).resolves.toBeUndefined();
    expect(c.size).toBe(0);
  });
});
