/**
 * Pre-started CLI processes. A CLI's start-up (node boot, settings, auth) is most of a
 * short request's wall time; a warm process has done it already and waits on stdin for
 * its request. Processes are kept per shape (command, arguments, environment, sandbox
 * template: everything but the prompt), for the shapes requests actually use (after a
 * request of a shape, its stock is refilled to WARM_POOL_SIZE) and for WARM_POOL_MODELS
 * at start. Each process has its own fresh sandbox and serves exactly one request, so
 * isolation stays per request. Warm processes hold worker slots (WORKER_CONCURRENCY);
 * an idle one gives its slot up to a request that would otherwise queue, expires after
 * WARM_POOL_IDLE, and is killed with its sandbox on shutdown.
 */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createSandbox, type Sandbox } from './sandbox.js';
import { runCli, type CliRun } from './process.js';
import type { Release, WorkerPool } from './pool.js';
import { inBackground } from './background.js';

export interface WarmSpec {
  command: string;
  args: string[];
  env: Record<string, string>;
  /** sandbox template sub-folder */
  template: string;
}

export interface WarmProcess {
  sandbox: Sandbox;
  run: CliRun;
  release: Release;
  /** the CLI's TMPDIR inside the sandbox */
  tmp: string;
}

interface Held extends WarmProcess {
  key: string;
  taken: boolean;
  since: number;
  idle?: NodeJS.Timeout;
  ctl: AbortController;
}

export interface WarmPoolOptions {
  /** processes kept ready per shape (0 = off) */
  size: number;
  idleMs: number;
  templateDir: string;
  onError(err: unknown): void;
}

const RETRIES = 20;
const RETRY_MS = 500;

export function warmKey(spec: WarmSpec): string {
  return createHash('sha256').update(JSON.stringify([spec.command, spec.args, spec.env, spec.template])).digest('hex');
}

/** the command and the model argument (--model / -m) of a shape */
function labelOf(spec: WarmSpec): { command: string; model?: string } {
  const i = spec.args.findIndex((a) => a === '--model' || a === '-m');
  const model = i >= 0 ? spec.args[i + 1] : undefined;
  return { command: spec.command, ...(model ? { model } : {}) };
}

export class WarmPool {
  private pool?: WorkerPool;
  private readonly ready = new Map<string, Held[]>();
  private readonly starting = new Map<string, number>();
  private closed = false;
  private hits = 0;
  /** processes being started: shutdown waits for them too */
  private readonly launching = new Set<Promise<void>>();
  /** every process this pool started and that has not exited */
  private readonly alive = new Set<Held>();
  /** what each shape is, in words (the admin console's view) */
  private readonly labels = new Map<string, { command: string; model?: string }>();

  constructor(private readonly opts: WarmPoolOptions) {}

  get enabled(): boolean {
    return this.opts.size > 0 && !this.closed;
  }

  /** the worker pool whose slots warm processes hold (set once both exist) */
  attach(pool: WorkerPool): void {
    this.pool = pool;
  }

  /** a ready process of this shape, taken for one request, or undefined */
  take(spec: WarmSpec): WarmProcess | undefined {
    const list = this.ready.get(warmKey(spec));
    const held = list?.shift();
    if (!held) return undefined;
    held.taken = true;
    clearTimeout(held.idle);
    this.hits++;
    return held;
  }

  /** keep `size` processes of this shape ready (started in the background, only on free slots) */
  want(spec: WarmSpec, retries = RETRIES): void {
    if (!this.enabled || !this.pool) return;
    inBackground(() => this.fill(spec, retries), this.opts.onError);
  }

  /** tops the shape up on free slots; all busy: tries again shortly, a few times (requests come first) */
  private async fill(spec: WarmSpec, retries: number): Promise<void> {
    const key = warmKey(spec);
    if (!this.labels.has(key)) this.labels.set(key, labelOf(spec));
    while (this.enabled && (this.ready.get(key)?.length ?? 0) + (this.starting.get(key) ?? 0) < this.opts.size) {
      // the slot a request just released is free only once its queue has moved on
      await new Promise((r) => setTimeout(r, 0));
      const release = await this.pool!.tryAcquire();
      if (!release) {
        if (retries > 0 && this.enabled) setTimeout(() => this.want(spec, retries - 1), RETRY_MS).unref();
        return;
      }
      this.starting.set(key, (this.starting.get(key) ?? 0) + 1);
      const launch = this.start(key, spec, release);
      this.launching.add(launch);
      try {
        await launch;
      } catch (err) {
        release();
        throw err;
      } finally {
        this.launching.delete(launch);
        this.starting.set(key, (this.starting.get(key) ?? 1) - 1);
      }
    }
  }

  private async start(key: string, spec: WarmSpec, release: Release): Promise<void> {
    const sandbox = await createSandbox(this.opts.templateDir, spec.template);
    const tmp = path.join(sandbox.path, '.tmp');
    await mkdir(tmp, { recursive: true });
    const ctl = new AbortController();
    const run = runCli({ command: spec.command, args: spec.args, cwd: sandbox.path, env: { ...spec.env, TMPDIR: tmp }, holdStdin: true, signal: ctl.signal, timeoutMs: 0 });
    const held: Held = { key, sandbox, run, release, tmp, taken: false, since: Date.now(), ctl };
    this.alive.add(held);
    // an idle process that dies (or is killed: idle expiry, reclaim, shutdown) takes its slot and sandbox with it;
    // a taken one belongs to its request, which cleans up
    void run.exit.then(() => {
      this.alive.delete(held);
      if (held.taken) return;
      this.drop(held);
      release();
      inBackground(() => sandbox.cleanup(), this.opts.onError);
    });
    if (this.closed) {
      ctl.abort();
      return;
    }
    held.idle = setTimeout(() => ctl.abort(), this.opts.idleMs);
    held.idle.unref();
    this.ready.set(key, [...(this.ready.get(key) ?? []), held]);
  }

  private drop(held: Held): void {
    clearTimeout(held.idle);
    const list = this.ready.get(held.key);
    if (list) this.ready.set(held.key, list.filter((h) => h !== held));
  }

  /** a request needs a slot: the idle process that has waited longest gives its up */
  reclaim(): boolean {
    let oldest: Held | undefined;
    for (const list of this.ready.values()) for (const h of list) if (!oldest || h.since < oldest.since) oldest = h;
    if (!oldest) return false;
    this.drop(oldest);
    oldest.ctl.abort();
    return true;
  }

  stats(): { idle: number; starting: number; hits: number } {
    let idle = 0;
    for (const list of this.ready.values()) idle += list.length;
    let starting = 0;
    for (const n of this.starting.values()) starting += n;
    return { idle, starting, hits: this.hits };
  }

  /** ready and starting processes per shape with any, named by command and model (read only: the admin overview) */
  shapes(): { command: string; model?: string; idle: number; starting: number }[] {
    const out: { command: string; model?: string; idle: number; starting: number }[] = [];
    for (const [key, label] of this.labels) {
      const idle = this.ready.get(key)?.length ?? 0;
      const starting = this.starting.get(key) ?? 0;
      if (idle || starting) out.push({ ...label, idle, starting });
    }
    return out;
  }

  /** kills every idle process; their exits free the slots and remove the sandboxes */
  async close(): Promise<void> {
    this.closed = true;
    // a process still starting sees `closed` and is killed as soon as it exists
    await Promise.allSettled([...this.launching]);
    const idle = [...this.alive].filter((h) => !h.taken);
    for (const h of idle) h.ctl.abort();
    await Promise.all(idle.map((h) => h.run.exit));
  }
}
