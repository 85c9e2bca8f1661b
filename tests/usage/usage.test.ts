/** Usage records and history on disk: day files, retention, torn lines, replay after a restart, aggregation. */
import { afterEach, describe, expect, it } from 'vitest';
import { appendFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UsageBook, type UsageRecord } from '../../src/usage/book.js';
import { History } from '../../src/usage/history.js';
import { DailyJsonl } from '../../src/usage/daily-jsonl.js';

const dirs: string[] = [];
async function tmp(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'cligate-usage-'));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const DAY = 86_400_000;
const NOW = Date.parse('2026-11-25T12:00:00Z');
const rec = (over: Partial<UsageRecord>): UsageRecord => ({
  t: NOW, requestId: 'r', dialect: 'openai', provider: 'kiro', model: 'm', status: 200, durationMs: 10, tokensIn: 5, tokensOut: 7, tokensCached: 1, stream: false, ...over,
});

describe('DailyJsonl', () => {
  it('writes one file per UTC day and deletes days past the retention', async () => {
    const dir = await tmp();
    const log = new DailyJsonl<{ t: number; n: number }>(dir, 'usage', 3);
    await log.start();
    for (let d = 0; d < 5; d++) log.append({ t: NOW - d * DAY, n: d });
    await log.flush();
    expect((await readdir(dir)).sort()).toEqual(['usage-2026-11-21.jsonl', 'usage-2026-11-22.jsonl', 'usage-2026-11-23.jsonl', 'usage-2026-11-24.jsonl', 'usage-2026-11-25.jsonl']);
    expect(await log.sweep(NOW)).toBe(2);
    expect((await readdir(dir)).sort()).toEqual(['usage-2026-11-23.jsonl', 'usage-2026-11-24.jsonl', 'usage-2026-11-25.jsonl']);
    expect((await log.read()).map((r) => r.n)).toEqual([2, 1, 0]);
    expect((await log.read(NOW - DAY)).map((r) => r.n)).toEqual([1, 0]);
  });

  it('a line torn by a crash and foreign files are skipped', async () => {
    const dir = await tmp();
    const log = new DailyJsonl<{ t: number; n: number }>(dir, 'usage', 0);
    await log.start();
    log.append({ t: NOW, n: 1 });
    await log.flush();
    // the process dies mid-line; the next one starts and appends
    await appendFile(path.join(dir, 'usage-2026-11-25.jsonl'), '{"t":1795600000000,"n":');
    await writeFile(path.join(dir, 'notes.txt'), 'x');
    const next = new DailyJsonl<{ t: number; n: number }>(dir, 'usage', 0);
    await next.start();
    next.append({ t: NOW + 1, n: 2 });
    expect((await next.read()).map((r) => r.n)).toEqual([1, 2]);
  });
});

describe('UsageBook', () => {
  it('aggregates per bucket and group, and the same figures come back after a restart', async () => {
    const dir = await tmp();
    const book = new UsageBook(dir, 30);
    await book.start(NOW);
    book.record(rec({ t: NOW - 5_400_000, provider: 'kiro', account: 'a' }));
    book.record(rec({ t: NOW - 1_800_000, provider: 'kiro', account: 'b', status: 429 }));
    book.record(rec({ t: NOW - 60_000, provider: 'claude-cli', tokensIn: 100 }));
    const q = { since: NOW - 2 * 3_600_000, until: NOW, bucketMs: 3_600_000, groupBy: 'provider' as const };
    const first = book.query(q);
    expect(first.buckets).toHaveLength(2);
    await book.log.flush();
    expect(first.totals).toMatchObject({ requests: 3, errors: 1, tokensIn: 110, tokensOut: 21, tokensCached: 3 });
    expect(first.series.map((s) => [s.group, s.totals.requests])).toEqual([['kiro', 2], ['claude-cli', 1]]);
    expect(first.series[0]!.points.map((p) => p.requests)).toEqual([1, 1]);
    expect(book.query({ ...q, groupBy: 'account' }).series.map((s) => s.group).sort()).toEqual(['-', 'a', 'b']);
    await book.log.flush();

    const again = new UsageBook(dir, 30);
    await again.start(NOW);
    expect(again.query(q)).toEqual(first);
  });

  it('prunes aggregates past the retention', async () => {
    const book = new UsageBook(await tmp(), 1);
    await book.start(NOW);
    book.record(rec({ t: NOW - 2 * DAY }));
    book.record(rec({ t: NOW }));
    book.prune(NOW);
    expect(book.query({ since: 0, until: NOW + 1, bucketMs: DAY, groupBy: 'provider' }).totals.requests).toBe(1);
  });
});

describe('History', () => {
  const entry = (n: number) => ({ t: NOW + n, requestId: `r${n}`, dialect: 'openai', provider: 'kiro', model: n % 2 ? 'odd' : 'even', status: 200, durationMs: 1, prompt: `question ${n}`, messages: 1, answer: 'a'.repeat(50) });

  it('keeps the newest entries, cut to the limit, searchable, and reloads them after a restart', async () => {
    const dir = await tmp();
    const h = new History(dir, 30, { enabled: true, maxChars: 20, limit: 3 });
    await h.start();
    for (let n = 0; n < 5; n++) h.add(entry(n));
    expect(h.list().map((e) => e.requestId)).toEqual(['r4', 'r3', 'r2']);
    expect(h.list()[0]!.answer).toBe(`${'a'.repeat(20)}… [30 more characters]`);
    expect(h.list({ model: 'odd' }).map((e) => e.requestId)).toEqual(['r3']);
    expect(h.list({ q: 'QUESTION 2' }).map((e) => e.requestId)).toEqual(['r2']);
    await h.log.flush();
    const again = new History(dir, 30, { enabled: true, maxChars: 20, limit: 3 });
    await again.start();
    expect(again.list().map((e) => e.requestId)).toEqual(['r4', 'r3', 'r2']);
  });

  it('off: nothing kept, nothing written', async () => {
    const dir = await tmp();
    const h = new History(path.join(dir, 'usage'), 30, { enabled: false, maxChars: 20, limit: 3 });
    await h.start();
    h.add(entry(1));
    expect(h.list()).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
  });
});
