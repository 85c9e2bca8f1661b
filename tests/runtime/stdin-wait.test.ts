/**
 * Seeing a process wait for its stdin in /proc: a blocking read(2) (a native CLI such as Codex), an
 * event loop watching it (node, as the Gemini CLI, Qwen Code and Claude Code are), a reader further
 * down the tree (a wrapper's child); a process doing something else, or reading another pipe, is
 * not waiting on its stdin.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import { runCli, type CliRun } from '../../src/runtime/process.js';
import { canWatchStdin, stdinOf, StdinWatch, untilWaitingOnStdin } from '../../src/runtime/stdin-wait.js';
import { waitFor } from '../helpers/server.js';

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
const runs: CliRun[] = [];

function hold(command: string, args: string[]): CliRun {
  const run = runCli({ command, args, cwd: tmpdir(), env, holdStdin: true, signal: new AbortController().signal, timeoutMs: 0 });
  runs.push(run);
  return run;
}

const watch = (run: CliRun) => new StdinWatch(run.pid!, stdinOf(run.pid!)!);

afterEach(async () => {
  for (const r of runs.splice(0)) {
    await r.kill();
    await r.exit;
  }
});

describe.runIf(canWatchStdin())('stdin wait', () => {
  it('a blocking read of stdin (cat) is seen', async () => {
    const run = hold('cat', []);
    expect(await waitFor(() => watch(run).waiting(), 10_000)).toBe(true);
  });

  it("node's event loop watching stdin is seen once the script reads it, not before", async () => {
    // busy for a while first (a CLI's start-up), then reads stdin the way the Gemini CLI does
    const script = `
      const until = Date.now() + 600; while (Date.now() < until);
      process.stdout.write('booted\\n');
      process.stdin.on('readable', () => { let c; while ((c = process.stdin.read()) !== null) process.stdout.write(String(c)); });
    `;
    const run = hold(process.execPath, ['-e', script]);
    const lines = run.lines()[Symbol.asyncIterator]();
    const w = watch(run);
    expect(w.waiting()).toBe(false);
    expect((await lines.next()).value).toBe('booted');
    expect(await waitFor(() => w.waiting(), 10_000)).toBe(true);
    run.send('hello\n', new AbortController().signal, 10_000);
    expect((await lines.next()).value).toBe('hello');
    await lines.return?.();
  });

  it('a reader further down the tree (a wrapper that starts the real CLI) is seen', async () => {
    const run = hold('sh', ['-c', 'sleep 0.2; cat; echo done']);
    expect(await untilWaitingOnStdin(run.pid!, AbortSignal.timeout(10_000), 5)).toBe(true);
  });

  it('a process that does not read its stdin, or reads another pipe, is not waiting', async () => {
    const sleeper = hold('sleep', ['30']);
    // stdin from /dev/null; cat reads a pipe of its own from the sleep beside it
    const other = hold('sh', ['-c', 'sleep 30 | cat']);
    await new Promise((r) => setTimeout(r, 300));
    expect(watch(sleeper).waiting()).toBe(false);
    expect(watch(other).waiting()).toBe(false);
    // the signal ends the watch: false
    expect(await untilWaitingOnStdin(sleeper.pid!, AbortSignal.timeout(100), 5)).toBe(false);
  });
});
