/**
 * An append-only log of JSON lines, one file per UTC day (`<prefix>-YYYY-MM-DD.jsonl`),
 * files older than the retention deleted. Appends are queued one at a time; a crash can
 * at worst leave a torn last line, which reading skips. Chosen over SQLite: no native
 * build (this machine's npm runs no install scripts), no server, and day files make
 * retention a file deletion. Lines are gathered for up to FLUSH_MS and appended together
 * (one open/append/close per batch, not per record): a crash loses at most that much.
 */
import { appendFile, mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';

const DAY_MS = 86_400_000;
const FLUSH_MS = 100;

export class DailyJsonl<T extends { t: number }> {
  private queue: Promise<void> = Promise.resolve();
  /** lines not yet handed to the file, by file */
  private buffered = new Map<string, string[]>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly dir: string,
    readonly prefix: string,
    /** days kept, counting today (0 = keep forever) */
    private readonly retentionDays: number,
  ) {}

  private day = { index: -1, file: '' };

  /** the day's file name, worked out once per day rather than once per record */
  private fileFor(t: number): string {
    const index = Math.floor(t / DAY_MS);
    if (index === this.day.index) return this.day.file;
    const file = path.join(this.dir, `${this.prefix}-${new Date(index * DAY_MS).toISOString().slice(0, 10)}.jsonl`);
    if (index > this.day.index) this.day = { index, file };
    return file;
  }

  async start(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await this.sweep();
    // a crash mid-append leaves the newest file without its final newline: end that line,
    // or the next record would be glued to the torn one and lost with it
    const newest = (await this.files()).at(-1);
    if (newest) {
      const fh = await open(newest.file, 'r+');
      try {
        const { size } = await fh.stat();
        const last = Buffer.alloc(1);
        if (size > 0 && (await fh.read(last, 0, 1, size - 1)).bytesRead === 1 && last[0] !== 0x0a) await fh.write('\n', size);
      } finally {
        await fh.close();
      }
    }
  }

  append(record: T): void {
    const file = this.fileFor(record.t);
    const lines = this.buffered.get(file);
    if (lines) lines.push(`${JSON.stringify(record)}\n`);
    else this.buffered.set(file, [`${JSON.stringify(record)}\n`]);
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS).unref();
  }

  /** resolves when every record appended so far is on disk */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffered;
    this.buffered = new Map();
    for (const [file, lines] of batch) {
      this.queue = this.queue.then(() => appendFile(file, lines.join(''), { mode: 0o600 })).catch(() => {});
    }
    return this.queue;
  }

  private async files(): Promise<{ file: string; day: number }[]> {
    const re = new RegExp(`^${this.prefix}-(\\d{4}-\\d{2}-\\d{2})\\.jsonl$`);
    const names = await readdir(this.dir).catch(() => [] as string[]);
    return names
      .map((n) => ({ n, m: re.exec(n) }))
      .filter((x) => x.m)
      .map((x) => ({ file: path.join(this.dir, x.n), day: Date.parse(`${x.m![1]}T00:00:00Z`) }))
      .sort((a, b) => a.day - b.day);
  }

  /** removes day files past the retention */
  async sweep(now = Date.now()): Promise<number> {
    if (!this.retentionDays) return 0;
    const cutoff = Math.floor(now / DAY_MS) * DAY_MS - (this.retentionDays - 1) * DAY_MS;
    let removed = 0;
    for (const f of await this.files()) {
      if (f.day < cutoff) {
        await rm(f.file, { force: true });
        removed++;
      }
    }
    return removed;
  }

  /** every record with t >= since, oldest first; torn or foreign lines are skipped */
  async read(since = 0): Promise<T[]> {
    await this.flush();
    const out: T[] = [];
    for (const f of await this.files()) {
      if (f.day + DAY_MS <= since) continue;
      for (const line of (await readFile(f.file, 'utf8')).split('\n')) {
        if (!line) continue;
        try {
          const r = JSON.parse(line) as T;
          if (typeof r?.t === 'number' && r.t >= since) out.push(r);
        } catch {
          // a line cut by a crash
        }
      }
    }
    return out;
  }
}
