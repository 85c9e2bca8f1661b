/**
 * Pre-started CLI processes. A CLI's start-up (node boot, settings, auth) is most of a
 * short request's wall time; a warm process has done it already and waits on stdin for
 * its request. Processes are kept per shape (command, arguments, environment, sandbox
 * template, the files it reads as it starts such as the system prompt: everything but the
 * prompt), for the shapes requests actually use (after a request of a shape, its stock is
 * refilled to WARM_POOL_SIZE) and for WARM_POOL_MODELS at start. Each process has its own
 * fresh sandbox and serves exactly one request, so isolation stays per request.
 *
 * A process is handed out only once it is ready: once its tree is seen waiting to read its
 * stdin (stdin-wait.ts), which each CLI does only when its start-up is done. A request that
 * comes while its shape's process still boots waits for that one to be ready (it is further
 * along than a cold start) instead of being handed a booting process as if it were warm.
 *
 * Warm processes hold worker slots (WORKER_CONCURRENCY); an idle or booting one gives its
 * slot up to a request that would otherwise queue, expires after WARM_POOL_IDLE, and is
 * killed with its sandbox on shutdown.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createSandbox, type Sandbox } from './sandbox.js';
import { runCli, type CliRun } from './process.js';
import type { Release, WorkerPool } from './pool.js';
import { inBackground } from './background.js';
import { canWatchStdin, untilWaitingOnStdin } from './stdin-wait.js';

/** a file written into the sandbox, path relative to it */
export interface SandboxFile {
  path: string;
  data: string;
}

export interface WarmSpec {
  command: string;
  args: string[];
  env: Record<string, string>;
  /** sandbox template sub-folder */
  template: string;
  /** files the CLI reads as it starts (the system prompt): written into the sandbox before it starts */
  files?: readonly SandboxFile[];
  /** written to stdin as it starts, the prompt follows (see CliRunOptions.stdinHead) */
  stdinHead?: string;
}

export interface WarmProcess {
  sandbox: Sandbox;
  run: CliRun;
  release: Release;
  /** the CLI's TMPDIR inside the sandbox */
  tmp: string;
  /** ms from its start until it was seen waiting on stdin */
  bootMs: number;
  /** the request came while it was still booting and waited for it to be ready */
  waited: boolean;
}

interface Held {
  key: string;
  spec: WarmSpec;
  sandbox: Sandbox;
  run: CliRun;
  release: Release;
  tmp: string;
  state: 'booting' | 'ready' | 'taken';
  /** a request waits for this booting process: nobody else gets it, and it is not reclaimed */
  claimed: boolean;
  startedAt: number;
  readyAt?: number;
  /** resolves true once ready, false if it never will be */
  ready: Promise<boolean>;
  idle?: NodeJS.Timeout;
  ctl: AbortController;
  exited: boolean;
}

export interface WarmPoolOptions {
  /** processes kept ready per shape (0 = off) */
  size: number;
  idleMs: number;
  templateDir: string;
  onError(err: unknown): void;
  /** a process not waiting on stdin after this long is killed (default BOOT_TIMEOUT_MS) */
  bootTimeoutMs?: number;
  /** how often a booting process is looked at (default 10 ms) */
  checkEveryMs?: number;
}

const RETRIES = 20;
const RETRY_MS = 500;
export const BOOT_TIMEOUT_MS = 60_000;
/** a shape whose processes fail this many times in a row before they are ready is not warmed for PAUSE_MS */
const MAX_BOOT_FAILURES = 3;
const PAUSE_MS = 5 * 60_000;

export function warmKey(spec: WarmSpec): string {
  return createHash('sha256')
    .update(JSON.stringify([spec.command, spec.args, spec.env, spec.template, spec.files ?? [], spec.stdinHead ?? '']))
    .digest('hex');
}

/** the command and the model argument (--model / -m) of a shape */
function labelOf(spec: WarmSpec): { command: string; model?: string } {
  const i = spec.args.findIndex((a) => a === '--model' || a === '-m');
  const model = i >= 0 ? spec.args[i + 1] : undefined;
  return { command: spec.command, ...(model ? { model } : {}) };
}

export class WarmPool {
  private pool?: WorkerPool;
  /** the processes not yet taken, booting or ready, per shape */
  private readonly procs = new Map<string, Held[]>();
  /** processes whose sandbox is being made, per shape */
  private readonly launchingByKey = new Map<string, number>();
  private closed = false;
  private hits = 0;
  private waits = 0;
  /** boot failures in a row per shape, and until when a failing shape is left cold */
  private readonly failures = new Map<string, { count: number; pausedUntil?: number }>();
  private readonly observable: boolean;
  /** processes being started: shutdown waits for them too */
  private readonly launching = new Set<Promise<void>>();
  /** every process this pool started and that has not exited */
  private readonly alive = new Set<Held>();
  /** what each shape is, in words (the admin console's view) */
  private readonly labels = new Map<string, { command: string; model?: string }>();

  constructor(private readonly opts: WarmPoolOptions) {
    this.observable = canWatchStdin();
    if (opts.size > 0 && !this.observable) {
      opts.onError(new Error('WARM_POOL_SIZE is set, but this system has no /proc to see when a CLI is ready for its prompt: the warm pool is off'));
    }
  }

  get enabled(): boolean {
    return this.opts.size > 0 && this.observable && !this.closed;
  }

  /** the worker pool whose slots warm processes hold (set once both exist) */
  attach(pool: WorkerPool): void {
    this.pool = pool;
  }

  /**
   * A process of this shape for one request, once it is ready: a ready one at once, else one
   * still booting once it is ready (undefined if it dies first or the request leaves), else undefined.
   */
  async take(spec: WarmSpec, signal: AbortSignal): Promise<WarmProcess | undefined> {
    if (!this.enabled) return undefined;
    const list = this.procs.get(warmKey(spec)) ?? [];
    const ready = list.find((h) => h.state === 'ready' && !h.claimed);
    if (ready) {
      this.hits++;
      return this.hand(ready, false);
    }
    const booting = list.find((h) => h.state === 'booting' && !h.claimed);
    if (!booting || signal.aborted) return undefined;
    booting.claimed = true;
    let onAbort = () => {};
    const left = new Promise<false>((resolve) => signal.addEventListener('abort', (onAbort = () => resolve(false)), { once: true }));
    const ok = await Promise.race([booting.ready, left]);
    signal.removeEventListener('abort', onAbort);
    if (!ok || booting.state !== 'ready' || signal.aborted) {
      booting.claimed = false;
      return undefined;
    }
    this.waits++;
    return this.hand(booting, true);
  }

  private hand(held: Held, waited: boolean): WarmProcess {
    held.state = 'taken';
    this.drop(held);
    return { sandbox: held.sandbox, run: held.run, release: held.release, tmp: held.tmp, bootMs: Math.round(held.readyAt! - held.startedAt), waited };
  }

  /** keep `size` processes of this shape ready (started in the background, only on free slots) */
  want(spec: WarmSpec, retries = RETRIES): void {
    if (!this.enabled || !this.pool) return;
    const failed = this.failures.get(warmKey(spec));
    if (failed?.pausedUntil !== undefined && Date.now() < failed.pausedUntil) return;
    inBackground(() => this.fill(spec, retries), this.opts.onError);
  }

  private count(key: string): number {
    return (this.procs.get(key)?.length ?? 0) + (this.launchingByKey.get(key) ?? 0);
  }

  /** tops the shape up on free slots; all busy: tries again shortly, a few times (requests come first) */
  private async fill(spec: WarmSpec, retries: number): Promise<void> {
    const key = warmKey(spec);
    if (!this.labels.has(key)) this.labels.set(key, labelOf(spec));
    while (this.enabled && this.count(key) < this.opts.size) {
      // the slot a request just released is free only once its queue has moved on
      await new Promise((r) => setTimeout(r, 0));
      const release = await this.pool!.tryAcquire();
      if (!release) {
        if (retries > 0 && this.enabled) setTimeout(() => this.want(spec, retries - 1), RETRY_MS).unref();
        return;
      }
      this.launchingByKey.set(key, (this.launchingByKey.get(key) ?? 0) + 1);
      const launch = this.start(key, spec, release);
      this.launching.add(launch);
      try {
        await launch;
      } catch (err) {
        release();
        throw err;
      } finally {
        this.launching.delete(launch);
        this.launchingByKey.set(key, (this.launchingByKey.get(key) ?? 1) - 1);
      }
    }
  }

  /** makes the sandbox (with the shape's files), starts the process, and watches it boot */
  private async start(key: string, spec: WarmSpec, release: Release): Promise<void> {
    const sandbox = await createSandbox(this.opts.templateDir, spec.template);
    const tmp = path.join(sandbox.path, '.tmp');
    try {
      await mkdir(tmp, { recursive: true });
      for (const f of spec.files ?? []) {
        const to = path.join(sandbox.path, f.path);
        await mkdir(path.dirname(to), { recursive: true });
        await writeFile(to, f.data);
      }
    } catch (err) {
      await sandbox.cleanup();
      throw err;
    }
    const ctl = new AbortController();
    const run = runCli({
      command: spec.command,
      args: spec.args,
      cwd: sandbox.path,
      env: { ...spec.env, TMPDIR: tmp },
      holdStdin: true,
      ...(spec.stdinHead ? { stdinHead: spec.stdinHead } : {}),
      signal: ctl.signal,
      timeoutMs: 0,
    });
    const boot = new AbortController();
    const held: Held = { key, spec, sandbox, run, release, tmp, state: 'booting', claimed: false, startedAt: performance.now(), ready: Promise.resolve(false), ctl, exited: false };
    this.alive.add(held);
    this.procs.set(key, [...(this.procs.get(key) ?? []), held]);
    // an untaken process that dies (or is killed: idle expiry, reclaim, shutdown) takes its slot and sandbox with it;
    // a taken one belongs to its request, which cleans up
    void run.exit.then((exit) => {
      held.exited = true;
      boot.abort();
      this.alive.delete(held);
      if (held.state === 'taken') return;
      const died = held.state === 'booting' && !ctl.signal.aborted && !this.closed;
      this.drop(held);
      release();
      inBackground(() => sandbox.cleanup(), this.opts.onError);
      if (died) {
        this.failed(key);
        const why = exit.spawnError ?? `exit code ${exit.exitCode}${exit.signal ? `, ${exit.signal}` : ''}`;
        const tail = exit.stderr.trim().split('\n').slice(-3).join(' | ');
        this.opts.onError(new Error(`a warm ${path.basename(spec.command)} exited before it was ready for its prompt (${why})${tail ? `: ${tail}` : ''}`));
      }
    });
    let tooLong = false;
    const timer = setTimeout(() => {
      tooLong = true;
      boot.abort();
    }, this.opts.bootTimeoutMs ?? BOOT_TIMEOUT_MS);
    timer.unref();
    ctl.signal.addEventListener('abort', () => boot.abort(), { once: true });
    held.ready = (run.pid === undefined ? Promise.resolve(false) : untilWaitingOnStdin(run.pid, boot.signal, this.opts.checkEveryMs)).then((seen) => {
      clearTimeout(timer);
      if (!seen || held.exited || held.state !== 'booting' || ctl.signal.aborted) {
        // one that exited is reported by its exit; one killed (idle, reclaimed, shut down) is no failure
        if (tooLong && !held.exited && !ctl.signal.aborted && !this.closed) {
          this.failed(key);
          this.opts.onError(new Error(`a warm ${path.basename(spec.command)} was not waiting for its prompt after ${Math.round((this.opts.bootTimeoutMs ?? BOOT_TIMEOUT_MS) / 1000)} s: killed`));
          ctl.abort();
        }
        return false;
      }
      held.state = 'ready';
      held.readyAt = performance.now();
      this.failures.delete(key);
      held.idle = setTimeout(() => ctl.abort(), this.opts.idleMs);
      held.idle.unref();
      return true;
    });
    if (this.closed) ctl.abort();
  }

  private failed(key: string): void {
    const count = (this.failures.get(key)?.count ?? 0) + 1;
    this.failures.set(key, count >= MAX_BOOT_FAILURES ? { count: 0, pausedUntil: Date.now() + PAUSE_MS } : { count });
  }

  private drop(held: Held): void {
    clearTimeout(held.idle);
    const list = this.procs.get(held.key);
    if (list) this.procs.set(held.key, list.filter((h) => h !== held));
  }

  /** a request needs a slot: the idle process that has waited longest gives its up, else one still booting */
  reclaim(): boolean {
    let victim: Held | undefined;
    for (const list of this.procs.values()) {
      for (const h of list) {
        if (h.claimed) continue;
        if (!victim) victim = h;
        else if (h.state === 'ready' && (victim.state !== 'ready' || h.readyAt! < victim.readyAt!)) victim = h;
        else if (h.state === 'booting' && victim.state === 'booting' && h.startedAt > victim.startedAt) victim = h;
      }
    }
    if (!victim) return false;
    this.drop(victim);
    victim.ctl.abort();
    return true;
  }

  /** idle: ready and waiting; starting: being started or booting; hits: requests served by a ready one; waited: requests that waited for a booting one */
  stats(): { idle: number; starting: number; hits: number; waited: number } {
    let idle = 0;
    let starting = 0;
    for (const list of this.procs.values()) for (const h of list) h.state === 'ready' && !h.claimed ? idle++ : starting++;
    for (const n of this.launchingByKey.values()) starting += n;
    return { idle, starting, hits: this.hits, waited: this.waits };
  }

  /** ready and starting processes per shape with any, named by command and model (read only: the admin overview) */
  shapes(): { command: string; model?: string; idle: number; starting: number }[] {
    const out: { command: string; model?: string; idle: number; starting: number }[] = [];
    for (const [key, label] of this.labels) {
      const list = this.procs.get(key) ?? [];
      const idle = list.filter((h) => h.state === 'ready' && !h.claimed).length;
      const starting = list.length - idle + (this.launchingByKey.get(key) ?? 0);
      if (idle || starting) out.push({ ...label, idle, starting });
    }
    return out;
  }

  /** kills every process not taken; their exits free the slots and remove the sandboxes */
  async close(): Promise<void> {
    this.closed = true;
    // a process still starting sees `closed` and is killed as soon as it exists
    await Promise.allSettled([...this.launching]);
    const idle = [...this.alive].filter((h) => h.state !== 'taken');
    for (const h of idle) h.ctl.abort();
    await Promise.all(idle.map((h) => h.run.exit));
  }
}
