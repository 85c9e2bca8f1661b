/**
 * Launch and teardown of CLI child processes. Each child leads its own process
 * group; teardown kills the whole tree (tree-kill walks it while parents live, then
 * the group kill catches anything re-parented), so no grandchild outlives a request.
 */
import { execa, type ResultPromise } from 'execa';
import treeKill from 'tree-kill';

export interface CliRunOptions {
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** written to stdin, which is then closed */
  stdin?: string;
  /**
   * a warm start: stdin stays open and no clock runs until send() hands over the request
   * (its stdin, its abort signal, its timeout)
   */
  holdStdin?: boolean;
  /** a held process gets this at once (stdin stays open): a CLI that stops waiting for stdin after a moment with nothing (Gemini CLI, Qwen Code: 500 ms) then waits for the rest */
  stdinHead?: string;
  signal: AbortSignal;
  timeoutMs: number;
}

export interface CliExit {
  exitCode: number | null;
  signal: string | null;
  stderr: string;
  /** the command could not be started at all (e.g. ENOENT) */
  spawnError?: string;
  timedOut: boolean;
  aborted: boolean;
}

export interface CliRun {
  readonly pid: number | undefined;
  /** stdout, line by line, as it arrives */
  lines(): AsyncIterable<string>;
  /** settles once the process has exited (never rejects) */
  readonly exit: Promise<CliExit>;
  /** kill the whole process tree; resolves when the signal has been sent */
  kill(): Promise<void>;
  /** a held process (holdStdin) gets its request: stdin written and closed, the request's signal and timeout armed */
  send(stdin: string, signal: AbortSignal, timeoutMs: number): void;
}

const STDERR_LIMIT = 64 * 1024;
const live = new Map<number, ResultPromise>();
let spawned = 0;

/** how many CLI processes were started since this process began */
export function spawnedTotal(): number {
  return spawned;
}

export function liveProcessCount(): number {
  return live.size;
}
export function livePids(): number[] {
  return [...live.keys()];
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already gone, which is the goal
  }
}

export function killTree(pid: number): Promise<void> {
  return new Promise((resolve) => {
    treeKill(pid, 'SIGKILL', () => {
      killGroup(pid);
      resolve();
    });
  });
}

/** Synchronous last resort for process exit: kill every live group. */
export function killAllSync(): void {
  for (const pid of live.keys()) killGroup(pid);
  live.clear();
}

export function runCli(opts: CliRunOptions): CliRun {
  const child = execa(opts.command, opts.args, {
    cwd: opts.cwd,
    env: opts.env,
    extendEnv: false,
    ...(opts.holdStdin ? { stdin: 'pipe' as const } : { input: opts.stdin ?? '' }),
    detached: true, // own process group, so the group can be killed as one
    cleanup: true,
    reject: false,
    buffer: { stdout: false, stderr: true },
    maxBuffer: { stderr: STDERR_LIMIT },
    stripFinalNewline: true,
  });
  const pid = child.pid;
  spawned += 1;
  if (opts.holdStdin && opts.stdinHead) {
    child.stdin?.on('error', () => {}); // a process that died at once: its exit says so
    child.stdin?.write(opts.stdinHead);
  }
  if (pid !== undefined) live.set(pid, child);

  let timedOut = false;
  let aborted = false;
  let exited = false;
  let killing: Promise<void> | undefined;
  const kill = (): Promise<void> => {
    if (pid === undefined) return Promise.resolve();
    if (exited) {
      // the leader is gone; anything it left behind is still in its group
      killGroup(pid);
      return Promise.resolve();
    }
    killing ??= killTree(pid);
    return killing;
  };

  let timer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    aborted = true;
    void kill();
  };
  const signals: AbortSignal[] = [];
  const arm = (signal: AbortSignal, timeoutMs: number) => {
    if (exited) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      void kill();
    }, timeoutMs);
    signals.push(signal);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  };
  // a held process answers to its owner's signal while it waits, with no clock running
  if (opts.holdStdin) {
    signals.push(opts.signal);
    if (opts.signal.aborted) onAbort();
    else opts.signal.addEventListener('abort', onAbort, { once: true });
  } else arm(opts.signal, opts.timeoutMs);

  const exit: Promise<CliExit> = child.then(
    (result) => {
      exited = true;
      clearTimeout(timer);
      for (const s of signals) s.removeEventListener('abort', onAbort);
      if (pid !== undefined) live.delete(pid);
      const stderr = typeof result.stderr === 'string' ? result.stderr : '';
      // the executable and the system's reason (ENOENT, EACCES), not execa's message: that repeats the
      // whole command line, system prompt included, into the client's error and the log
      const failedToSpawn = result.failed && result.exitCode === undefined && !result.isTerminated;
      const reason = (result as { code?: string }).code ?? (result as { cause?: { message?: string } }).cause?.message ?? 'could not start';
      const spawnError = failedToSpawn ? `${opts.command}: ${reason}` : undefined;
      return {
        exitCode: result.exitCode ?? null,
        signal: result.signal ?? null,
        stderr,
        ...(spawnError ? { spawnError } : {}),
        timedOut,
        aborted,
      };
    },
  );

  return {
    pid,
    async *lines() {
      // iterated by hand: execa's iterator waits for the process to exit when it is
      // closed early, so a consumer that stops reading must kill the tree first
      const it = child.iterable({ from: 'stdout' })[Symbol.asyncIterator]();
      let finished = false;
      try {
        for (;;) {
          let next: IteratorResult<unknown>;
          try {
            next = await it.next();
          } catch {
            finished = true; // the stream errors when the process is killed; `exit` says why
            return;
          }
          if (next.done) {
            finished = true;
            return;
          }
          yield String(next.value);
        }
      } finally {
        if (!finished) {
          await kill();
          await it.return?.().catch(() => undefined);
        }
      }
    },
    exit,
    kill,
    send(stdin: string, signal: AbortSignal, timeoutMs: number) {
      arm(signal, timeoutMs);
      child.stdin?.on('error', () => {}); // a process that died meanwhile: its exit says so
      child.stdin?.end(stdin);
    },
  };
}
