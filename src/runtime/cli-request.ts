/**
 * One CLI request from start to end, the same for every CLI provider:
 * wait for a worker slot -> make a sandbox -> run the CLI -> translate its stdout
 * into StreamParts -> always kill the tree, remove the sandbox, free the slot.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ProviderContext } from '../core/provider.js';
import type { StreamPart } from '../core/stream.js';
import type { CligateError } from '../core/errors.js';
import { Timeout, Unavailable } from '../core/errors.js';
import { createSandbox, type Sandbox } from './sandbox.js';
import { inBackground } from './background.js';
import { runCli, type CliExit, type CliRun } from './process.js';
import type { WorkerPool } from './pool.js';
import type { SessionCleanup } from './session-cleanup.js';
import type { SandboxFile, WarmPool, WarmSpec } from './warm-pool.js';
import { HOLD_MS, type PreambleFilter } from './preamble.js';

export interface CliRuntime {
  pool: WorkerPool;
  templateDir: string;
  timeoutMs: number;
  /** kill the CLI and answer 504 when it has produced nothing of the answer within this long (0 = off) */
  firstTokenMs?: number;
  /** removes the CLIs' session files for our sandboxes, after CLEANUP_DELAY_MINUTES */
  cleanup?: SessionCleanup;
  /** pre-started processes for invocations marked `warm` */
  warm?: WarmPool;
  /** longest answer text is held to tell a tool preamble from the answer (PREAMBLE_HOLD_MS; default HOLD_MS) */
  preambleHoldMs?: number;
}

/** Reads one CLI's stdout; each provider has its own. */
export interface CliTranslator {
  feed(line: string): StreamPart[];
  finish(exit: CliExit): { parts: StreamPart[]; error?: CligateError };
  /** its preamble hold, released here once it has held text for preambleHoldMs */
  readonly answer?: Pick<PreambleFilter, 'heldSince' | 'release'>;
}

export interface CliInvocation {
  /** provider id, for messages */
  cli: string;
  /** env variable that names the executable, for the "not found" hint */
  pathVariable: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  stdin: string;
  /** sub-folder of the sandbox template to copy */
  template: string;
  translator: CliTranslator;
  /** files the CLI reads as it starts (the system prompt), path relative to the sandbox: part of a warm process's shape, written before it starts */
  setupFiles?: SandboxFile[];
  /** this request's own files (images), path relative to the sandbox: written before the prompt is given, warm or cold */
  files?: { path: string; data: Buffer }[];
  /** written to stdin before the prompt, in the same write when cold, as the process starts when warm (see CliRunOptions.stdinHead) */
  stdinHead?: string;
  /** what the CLI wrote outside the sandbox for this working directory (session files) */
  sessionFiles?(sandboxPath: string): string[];
  /** the process can be started before the request (it reads the prompt from stdin, nothing else of the request is read late): the warm pool may serve it */
  warm?: boolean;
}

/** what a warm process must match: everything about the run but the prompt and the request's own files */
export function warmSpecOf(inv: Pick<CliInvocation, 'command' | 'args' | 'env' | 'template' | 'setupFiles' | 'stdinHead'>): WarmSpec {
  return {
    command: inv.command,
    args: inv.args,
    env: inv.env,
    template: inv.template,
    ...(inv.setupFiles?.length ? { files: inv.setupFiles } : {}),
    ...(inv.stdinHead ? { stdinHead: inv.stdinHead } : {}),
  };
}

export async function* runCliRequest(rt: CliRuntime, inv: CliInvocation, ctx: ProviderContext): AsyncGenerator<StreamPart> {
  // a warm process of exactly this shape skips the CLI's start-up; it is handed out only once ready
  // (one of the shape still booting is waited for: it is further along than a cold start)
  const spec = inv.warm && rt.warm?.enabled ? warmSpecOf(inv) : undefined;
  const warm = spec ? await rt.warm!.take(spec, ctx.signal) : undefined;
  const release = warm ? warm.release : await rt.pool.acquire(ctx.signal);
  ctx.log.debug({ cli: inv.cli, warm: warm ? (warm.waited ? 'waited for boot' : 'ready') : false, ...(warm ? { bootMs: warm.bootMs } : {}) }, 'worker granted');
  let sandbox: Sandbox | undefined = warm?.sandbox;
  try {
    sandbox ??= await createSandbox(rt.templateDir, inv.template);
    // the CLI's temporary files (error reports and the like) stay in the sandbox and go with it (a warm one's exists)
    const tmp = path.join(sandbox.path, '.tmp');
    if (!warm) await mkdir(tmp, { recursive: true });
    // a warm process has its shape's files already
    for (const f of [...(warm ? [] : (inv.setupFiles ?? [])), ...(inv.files ?? [])]) {
      const to = path.join(sandbox.path, f.path);
      await mkdir(path.dirname(to), { recursive: true });
      await writeFile(to, f.data);
    }
    let run: CliRun;
    if (warm) {
      run = warm.run;
      run.send(inv.stdin, ctx.signal, rt.timeoutMs);
    } else {
      run = runCli({
        command: inv.command,
        args: inv.args,
        cwd: sandbox.path,
        env: { ...inv.env, TMPDIR: tmp },
        stdin: (inv.stdinHead ?? '') + inv.stdin,
        signal: ctx.signal,
        timeoutMs: rt.timeoutMs,
      });
    }
    ctx.log.debug({ pid: run.pid, cli: inv.cli, sandbox: sandbox.path }, 'cli started');
    // a CLI whose upstream stalls would otherwise sit silent until MAX_TIMEOUT
    let silent = false;
    let firstToken = rt.firstTokenMs
      ? setTimeout(() => {
          silent = true;
          void run.kill();
        }, rt.firstTokenMs)
      : undefined;
    // keepalives only say the CLI is alive; the answer starting is what counts
    const started = (parts: StreamPart[]) => {
      if (firstToken && parts.some((p) => p.type !== 'keepalive')) {
        clearTimeout(firstToken);
        firstToken = undefined;
      }
      return parts;
    };
    const lines = run.lines()[Symbol.asyncIterator]();
    try {
      // a read outlives a hold that runs out before its line comes: it is awaited again
      let read: Promise<IteratorResult<string>> | undefined;
      for (;;) {
        read ??= lines.next();
        const next = await lineOrHoldOver(read, inv.translator.answer, rt.preambleHoldMs ?? HOLD_MS);
        if (next === 'hold over') {
          yield* started(inv.translator.answer!.release());
          continue;
        }
        read = undefined;
        if (next.done) break;
        yield* started(inv.translator.feed(next.value));
      }
      const exit = await run.exit;
      if (silent) {
        throw new Timeout(`${inv.cli} produced no answer within ${Math.round(rt.firstTokenMs! / 1000)} s (FIRST_TOKEN_TIMEOUT); its process tree was killed.`, { code: 'first_token_timeout' });
      }
      ctx.log.debug({ pid: run.pid, exitCode: exit.exitCode, signal: exit.signal }, 'cli exited');
      if (exit.spawnError) {
        throw new Unavailable(
          `The ${inv.cli} CLI could not be started (${exit.spawnError.split('\n')[0]}). Install it or set ${inv.pathVariable} to its path.`,
          { code: 'cli_not_found' },
        );
      }
      if (exit.timedOut) {
        throw new Timeout(`${inv.cli} did not finish within ${rt.timeoutMs} ms (MAX_TIMEOUT); its process tree was killed.`);
      }
      if (exit.aborted) return; // the client left: nobody to tell
      const { parts, error } = inv.translator.finish(exit);
      for (const part of parts) yield part;
      if (error) throw error;
    } finally {
      if (firstToken) clearTimeout(firstToken);
      await run.kill();
      await run.exit;
      // a consumer that stopped early: the reader closes (a read still pending ends with the process)
      await lines.return?.();
    }
  } finally {
    release();
    // this shape is in demand: have the next one ready
    if (spec) rt.warm!.want(spec);
    // the process tree is gone; removing its files need not hold the response
    const done = sandbox;
    if (done) {
      inBackground(
        async () => {
          await done.cleanup();
          await rt.cleanup?.schedule(inv.sessionFiles?.(done.path) ?? []);
        },
        (err) => ctx.log.warn({ err: String(err) }, 'sandbox or session cleanup failed'),
      );
    }
  }
}

/** the line being read; or 'hold over' when answer text has been held for `holdMs` before it comes */
async function lineOrHoldOver(
  read: Promise<IteratorResult<string>>,
  hold: CliTranslator['answer'],
  holdMs: number,
): Promise<IteratorResult<string> | 'hold over'> {
  const since = hold?.heldSince;
  if (since === undefined) return read;
  const left = since + holdMs - performance.now();
  if (left <= 0) return 'hold over';
  let timer: NodeJS.Timeout | undefined;
  const over = new Promise<'hold over'>((resolve) => (timer = setTimeout(resolve, left, 'hold over')));
  try {
    return await Promise.race([read, over]);
  } finally {
    clearTimeout(timer);
  }
}
