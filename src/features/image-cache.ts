/**
 * Images that an upstream generated, kept on disk for a while and served at
 * GET /image/:file so answers can link to them. File names are content hashes plus a
 * known extension, checked by one pattern: nothing else can be served, and no path
 * can leave the cache dir. Files older than the TTL are swept regularly.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../accounts/atomic-file.js';

const EXT: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/gif': 'gif', 'image/webp': 'webp' };
const TYPE: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp' };
export const CACHE_FILE = /^[a-f0-9]{32}\.(png|jpg|gif|webp)$/;

export class ImageCache {
  private timer?: NodeJS.Timeout;

  constructor(
    readonly dir: string,
    private readonly ttlMs: number,
  ) {}

  async start(sweepEveryMs = Math.min(this.ttlMs, 5 * 60_000)): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await this.sweep();
    this.timer = setInterval(() => void this.sweep().catch(() => {}), sweepEveryMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** stores the image; returns its file name */
  async save(data: Buffer, mediaType: string): Promise<string> {
    const ext = EXT[mediaType.toLowerCase()] ?? 'png';
    const file = `${createHash('sha256').update(data).digest('hex').slice(0, 32)}.${ext}`;
    const to = path.join(this.dir, file);
    await mkdir(this.dir, { recursive: true });
    if (!existsSync(to)) await writeFileAtomic(to, data, 0o644);
    return file;
  }

  /** the path and type of a cached file, or undefined for any name that is not one */
  resolve(file: string): { path: string; contentType: string } | undefined {
    const m = CACHE_FILE.exec(file);
    if (!m) return undefined;
    const p = path.join(this.dir, file);
    return existsSync(p) ? { path: p, contentType: TYPE[m[1]!]! } : undefined;
  }

  async sweep(now = Date.now()): Promise<number> {
    let removed = 0;
    const files = await readdir(this.dir).catch(() => [] as string[]);
    for (const f of files) {
      const p = path.join(this.dir, f);
      const s = await stat(p).catch(() => undefined);
      if (s && now - s.mtimeMs > this.ttlMs && (CACHE_FILE.test(f) || f.endsWith('.tmp'))) {
        await rm(p, { force: true });
        removed++;
      }
    }
    return removed;
  }
}
