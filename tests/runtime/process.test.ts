/**
 * runCli / killTree with real child processes: streaming stdout, stdin, exit reports,
 * spawn failures, and teardown of the whole tree on abort and on timeout.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { killTree, liveProcessCount, livePids, runCli, type CliRun, type CliRunOptions } from '../../src/runtime/process.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const work = mkdtempSync(path.join(tmpdir(), 'cligate-process-test-'));
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

/** every pid a test learned about, so a failing test leaves nothing running */
const spawnedPids = new Set<number>();
const runs: CliRun[] = [];

function start(opts: Partial<CliRunOptions> & Pick<CliRunOptions, 'command' | 'args'>): CliRun {
  const run = runCli({ cwd: work, env, signal: new AbortController().signal, timeoutMs: 60_000, ...opts });
  if (run.pid !== undefined) spawnedPids.add(run.pid);
  runs.push(run);
  return run;
}

/**
 * true once `pid` runs nothing any more. A killed process whose parent is gone is
 * re-parented to PID 1; where PID 1 does not reap (containers), it lingers as a
 * zombie that `kill(pid, 0)` still finds. A zombie holds no resources and runs no code.
 */
function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true; // vanished between the two checks
  }
}

async function waitGone(pids: number[], withinMs: number): Promise<number[]> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const alive = pids.filter((p) => !isGone(p));
    if (alive.length === 0 || Date.now() > deadline) return alive;
    await sleep(20);
  }
}

/** read `n` lines from a run without ending the iteration */
async function readLines(run: CliRun, n: number): Promise<{ lines: string[]; rest: AsyncIterator<string> }> {
  const it = run.lines()[Symbol.asyncIterator]();
  const lines: string[] = [];
  while (lines.length < n) {
    const r = await it.next();
    if (r.done) break;
    lines.push(r.value);
  }
  return { lines, rest: it };
}

async function drain(it: AsyncIterator<string>): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const r = await it.next();
    if (r.done) return out;
    out.push(r.value);
  }
}

afterEach(async () => {
  // a failed assertion must not leave processes behind for the next test
  for (const run of runs.splice(0)) {
    await run.kill();
    await run.exit;
  }
});

afterAll(() => {
  for (const pid of spawnedPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(work, { recursive: true, force: true });
});

describe('runCli: output, input and exit', () => {
  it('yields stdout lines in order as they are printed, before the process has finished', async () => {
    const flag = path.join(work, 'go-on');
    // prints a line, then waits until the test has seen it before printing the rest
    const run = start({
      command: 'bash',
      args: [
        '-c',
        `echo first; echo second; for i in $(seq 1 250); do [ -e "${flag}" ] && break; sleep 0.02; done; ` +
          `if [ -e "${flag}" ]; then echo third; else echo "never saw the flag"; fi; sleep 0.05; echo fourth`,
      ],
    });
    const { lines, rest } = await readLines(run, 2);
    expect(lines).toEqual(['first', 'second']);
    // the script blocks until the flag exists: had stdout been buffered to the end, it
    // would have given up waiting before these two lines reached us
    expect(liveProcessCount()).toBeGreaterThanOrEqual(1);
    writeFileSync(flag, '');
    expect(await drain(rest)).toEqual(['third', 'fourth']);
    const exit = await run.exit;
    expect(exit).toMatchObject({ exitCode: 0, timedOut: false, aborted: false });
    expect(exit.spawnError).toBeUndefined();
  });

  it('delivers stdin and then closes it', async () => {
    const run = start({ command: 'cat', args: [], stdin: 'line one\nline "two" ünïcode\n\nlast' });
    const { lines } = await readLines(run, Infinity);
    expect(lines).toEqual(['line one', 'line "two" ünïcode', '', 'last']);
    expect((await run.exit).exitCode).toBe(0);
  });

  it('closes stdin even when there is nothing to write (a reader of stdin does not hang)', async () => {
    const run = start({ command: 'bash', args: ['-c', 'n=$(wc -c); echo "got $n bytes"'] });
    const { lines } = await readLines(run, Infinity);
    expect(lines).toEqual(['got 0 bytes']);
    expect((await run.exit).exitCode).toBe(0);
  });

  it('reports the exit code and stderr', async () => {
    const run = start({ command: 'bash', args: ['-c', 'echo out; echo "something broke" >&2; exit 3'] });
    const { lines } = await readLines(run, Infinity);
    expect(lines).toEqual(['out']);
    const exit = await run.exit;
    expect(exit.exitCode).toBe(3);
    expect(exit.stderr).toContain('something broke');
    expect(exit.signal).toBeNull();
    expect(exit).toMatchObject({ timedOut: false, aborted: false });
    expect(exit.spawnError).toBeUndefined();
  });

  it('runs in the given cwd with exactly the given environment', async () => {
    const run = start({
      command: 'bash',
      args: ['-c', 'pwd; echo "foo=$CLIGATE_TEST_FOO"; echo "npm=${npm_lifecycle_event-unset}"'],
      env: { ...env, CLIGATE_TEST_FOO: 'bar' },
    });
    const { lines } = await readLines(run, Infinity);
    expect(lines[0]).toBe(path.resolve(work));
    expect(lines[1]).toBe('foo=bar');
    expect(lines[2]).toBe('npm=unset'); // the server's environment is not inherited
  });

  it('a command that does not exist sets spawnError and does not throw', async () => {
    let run: CliRun | undefined;
    expect(() => {
      run = start({ command: path.join(work, 'no-such-cli'), args: ['--system-prompt', 'a long system prompt'] });
    }).not.toThrow();
    const { lines } = await readLines(run!, Infinity);
    expect(lines).toEqual([]);
    const exit = await run!.exit;
    // the executable and the reason; never the arguments (a whole system prompt would reach the client)
    expect(exit.spawnError).toBe(`${path.join(work, 'no-such-cli')}: ENOENT`);
    expect(exit.timedOut).toBe(false);
    expect(liveProcessCount()).toBe(0);
    await run!.kill(); // harmless
  });
});

describe('runCli: teardown', () => {
  it('an abort kills the whole tree, including a backgrounded grandchild, within 1.5 s', async () => {
    const ctl = new AbortController();
    const run = start({ command: 'bash', args: ['-c', 'sleep 300 & echo $!; sleep 300'], signal: ctl.signal });
    const { lines } = await readLines(run, 1);
    const grandchild = Number(lines[0]);
    expect(grandchild).toBeGreaterThan(1);
    spawnedPids.add(grandchild);
    expect(isGone(grandchild)).toBe(false);
    expect(livePids()).toContain(run.pid);

    const t0 = Date.now();
    ctl.abort();
    const exit = await run.exit;
    expect(await waitGone([grandchild, run.pid!], 1_500)).toEqual([]);
    expect(Date.now() - t0).toBeLessThanOrEqual(1_500);
    expect(exit).toMatchObject({ aborted: true, timedOut: false, signal: 'SIGKILL' });
    expect(liveProcessCount()).toBe(0);
  });

  it('an abort also kills a grandchild that left the process group (setsid) while its parent lives', async () => {
    const ctl = new AbortController();
    const run = start({ command: 'bash', args: ['-c', 'setsid sleep 300 & echo $!; sleep 300'], signal: ctl.signal });
    const { lines } = await readLines(run, 1);
    const escaped = Number(lines[0]);
    expect(escaped).toBeGreaterThan(1);
    spawnedPids.add(escaped);
    // it really left the group: the group kill alone would not reach it
    const pgidOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(')')[1]!.trim().split(/\s+/)[2]);
    for (let i = 0; i < 100 && pgidOf(escaped) === run.pid; i++) await sleep(20);
    expect(pgidOf(escaped)).not.toBe(run.pid);

    ctl.abort();
    await run.exit;
    expect(await waitGone([escaped, run.pid!], 1_500)).toEqual([]);
  });

  it('an abort also kills a grandchild re-parented away from the tree but still in the group', async () => {
    const ctl = new AbortController();
    // the subshell exits at once, so its sleep is orphaned: no longer a descendant of the leader
    const run = start({
      command: 'bash',
      args: ['-c', '( sleep 300 >/dev/null 2>&1 & echo $! ); sleep 300'],
      signal: ctl.signal,
    });
    const { lines } = await readLines(run, 1);
    const orphan = Number(lines[0]);
    expect(orphan).toBeGreaterThan(1);
    spawnedPids.add(orphan);
    const ppidOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(')')[1]!.trim().split(/\s+/)[1]);
    for (let i = 0; i < 100 && ppidOf(orphan) === run.pid; i++) await sleep(20);

    ctl.abort();
    await run.exit;
    expect(await waitGone([orphan, run.pid!], 1_500)).toEqual([]);
  });

  it('kill() after the leader exited still kills what it left behind in its group', async () => {
    const run = start({ command: 'bash', args: ['-c', 'sleep 300 >/dev/null 2>&1 & echo $!; exit 0'] });
    const { lines } = await readLines(run, Infinity);
    const leftover = Number(lines[0]);
    spawnedPids.add(leftover);
    const exit = await run.exit;
    expect(exit.exitCode).toBe(0);
    expect(isGone(leftover)).toBe(false);
    await run.kill();
    expect(await waitGone([leftover], 1_500)).toEqual([]);
  });

  it('an already-aborted signal kills the process straight away', async () => {
    const ctl = new AbortController();
    ctl.abort();
    const run = start({ command: 'sleep', args: ['300'], signal: ctl.signal });
    const exit = await run.exit;
    expect(exit.aborted).toBe(true);
    expect(await waitGone([run.pid!], 1_500)).toEqual([]);
  });

  it('timeoutMs reports timedOut and kills the tree', async () => {
    // long enough for bash to print the grandchild's pid on a loaded machine before the timeout fires
    const run = start({ command: 'bash', args: ['-c', 'sleep 300 & echo $!; sleep 300'], timeoutMs: 2_000 });
    const { lines, rest } = await readLines(run, 1);
    const grandchild = Number(lines[0]);
    spawnedPids.add(grandchild);
    expect(await drain(rest)).toEqual([]); // the stream ends, without throwing, once the tree is killed
    const exit = await run.exit;
    expect(exit).toMatchObject({ timedOut: true, aborted: false, signal: 'SIGKILL', exitCode: null });
    expect(await waitGone([grandchild, run.pid!], 1_500)).toEqual([]);
    expect(liveProcessCount()).toBe(0);
  });

  it('kill() kills the tree; calling it again, or after exit, is harmless', async () => {
    const run = start({ command: 'bash', args: ['-c', 'sleep 300 & echo $!; sleep 300'] });
    const { lines } = await readLines(run, 1);
    const grandchild = Number(lines[0]);
    spawnedPids.add(grandchild);
    await Promise.all([run.kill(), run.kill()]);
    const exit = await run.exit;
    expect(exit).toMatchObject({ aborted: false, timedOut: false, signal: 'SIGKILL' });
    expect(await waitGone([grandchild], 1_500)).toEqual([]);
    await run.kill();
  });

  it('killTree kills a process and its children by pid', async () => {
    const run = start({ command: 'bash', args: ['-c', 'sleep 300 & echo $!; sleep 300'] });
    const { lines } = await readLines(run, 1);
    const grandchild = Number(lines[0]);
    spawnedPids.add(grandchild);
    await killTree(run.pid!);
    await run.exit;
    expect(await waitGone([grandchild, run.pid!], 1_500)).toEqual([]);
  });

  it('liveProcessCount counts running children and returns to 0 when they exit', async () => {
    const before = liveProcessCount();
    expect(before).toBe(0);
    const ctl = new AbortController();
    const a = start({ command: 'sleep', args: ['300'], signal: ctl.signal });
    const b = start({ command: 'sleep', args: ['300'], signal: ctl.signal });
    const c = start({ command: 'bash', args: ['-c', 'exit 0'] });
    expect(liveProcessCount()).toBe(3);
    expect(livePids().sort()).toEqual([a.pid, b.pid, c.pid].sort());
    await c.exit;
    expect(liveProcessCount()).toBe(2);
    ctl.abort();
    await Promise.all([a.exit, b.exit]);
    expect(liveProcessCount()).toBe(0);
    expect(livePids()).toEqual([]);
  });

  // Regression (fixed in dab4086): execa's iterable awaits the subprocess when it is closed
  // early, so a consumer that stopped reading (break / return / a throw in the loop body,
  // e.g. collect() throwing on an error part) waited for the CLI to exit on its own or for
  // timeoutMs, and runCliRequest's `finally { await run.kill() }` could not run until then.
  it('stopping the iteration of lines() early returns promptly and kills the tree', async () => {
    const run = start({ command: 'bash', args: ['-c', 'sleep 300 >/dev/null 2>&1 & echo $!; echo two; sleep 300'] });
    let grandchild = 0;
    const stopped = (async () => {
      for await (const line of run.lines()) {
        grandchild = Number(line);
        break;
      }
      return 'returned' as const;
    })();
    const outcome = await Promise.race([stopped, sleep(1_500).then(() => 'still waiting' as const)]);
    expect(outcome).toBe('returned');
    spawnedPids.add(grandchild);
    expect(grandchild).toBeGreaterThan(1);
    const exit = await run.exit;
    expect(exit.signal).toBe('SIGKILL');
    expect(await waitGone([grandchild, run.pid!], 1_500)).toEqual([]);
  });

  it('a throw inside the loop over lines() also ends the run instead of waiting for it', async () => {
    const run = start({ command: 'bash', args: ['-c', 'echo bad-line; sleep 300'] });
    const consumed = (async () => {
      for await (const line of run.lines()) throw new Error(`cannot parse ${line}`);
    })();
    const outcome = await Promise.race([
      consumed.then(
        () => 'no throw',
        (e: unknown) => (e as Error).message,
      ),
      sleep(1_500).then(() => 'still waiting'),
    ]);
    expect(outcome).toBe('cannot parse bad-line');
    expect((await run.exit).signal).toBe('SIGKILL');
  });
});
