/**
 * Delayed removal of the session files the CLIs write under the user's home for
 * cligate's own sandboxes (and only those). Pending removals are persisted, so they
 * survive a restart; a start-up sweep removes what is overdue. With cleanup off
 * nothing is scheduled, so sessions made then are never touched later.
 */
import { mkdir, readFile, rename, rm, writeFile, open } from 'node:fs/promises';
import path from 'node:path';

export interface CleanupOptions {
  enabled: boolean;
  delayMs: number;
  /** where the pending list lives (e.g. ~/.cligate) */
  stateDir: string;
  onError?: (err: unknown) => void;
}

interface Pending {
  due: number;
  paths: string[];
}

const FILE = 'pending-session-cleanups.json';

export class SessionCleanup {
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly opts: CleanupOptions) {}

  private get file(): string {
    return path.join(this.opts.stateDir, FILE);
  }

  /** Load the persisted list, remove what is overdue, and wait for the rest. */
  async start(): Promise<void> {
    try {
      const parsed: unknown = JSON.parse(await readFile(this.file, 'utf8'));
      if (Array.isArray(parsed)) this.pending = parsed.filter(isPending);
    } catch {
      this.pending = []; // no list yet, or an unreadable one: nothing known to remove
    }
    await this.run();
  }

  /** Remove `paths` after the delay (now, if the delay is 0). */
  async schedule(paths: string[]): Promise<void> {
    if (!this.opts.enabled || paths.length === 0) return;
    if (this.opts.delayMs === 0) {
      await removeAll(paths, this.opts.onError);
      return;
    }
    this.pending.push({ due: Date.now() + this.opts.delayMs, paths });
    await this.persist();
    this.arm();
  }

  /** how many removals are waiting */
  get size(): number {
    return this.pending.length;
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async run(): Promise<void> {
    const now = Date.now();
    const due = this.pending.filter((p) => p.due <= now);
    if (due.length) {
      this.pending = this.pending.filter((p) => p.due > now);
      await removeAll(due.flatMap((p) => p.paths), this.opts.onError);
      await this.persist();
    }
    this.arm();
  }

  private arm(): void {
    clearTimeout(this.timer);
    if (!this.pending.length) return;
    const next = Math.min(...this.pending.map((p) => p.due));
    // timers beyond ~24.8 days overflow; re-arm instead
    this.timer = setTimeout(() => void this.run().catch(this.opts.onError), Math.min(Math.max(0, next - Date.now()), 2 ** 31 - 1));
    this.timer.unref();
  }

  /** atomic: temp file, fsync, rename; writes are serialised */
  private persist(): Promise<void> {
    const body = JSON.stringify(this.pending);
    this.writing = this.writing.then(async () => {
      await mkdir(this.opts.stateDir, { recursive: true });
      const tmp = `${this.file}.${process.pid}.tmp`;
      await writeFile(tmp, body, 'utf8');
      const fh = await open(tmp, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.file);
    });
    return this.writing;
  }
}

function isPending(v: unknown): v is Pending {
  const p = v as Pending;
  return typeof p?.due === 'number' && Array.isArray(p.paths) && p.paths.every((x) => typeof x === 'string');
}

async function removeAll(paths: string[], onError?: (err: unknown) => void): Promise<void> {
  await Promise.all(paths.map((p) => rm(p, { recursive: true, force: true, maxRetries: 3 }).catch((err: unknown) => onError?.(err))));
}
