/**
 * Usage accounting: one record per chat request (provider, model, account, key, tokens,
 * duration, status), appended to day files and aggregated in memory per minute, so the
 * admin API answers "requests and tokens over time, by provider/model/account" without
 * rereading files. Start-up replays the files within the retention.
 */
import { DailyJsonl } from './daily-jsonl.js';

/** what every record of a finished chat request says (usage and history alike) */
export interface RequestFacts {
  /** epoch ms when the request ended */
  t: number;
  requestId: string;
  dialect: string;
  provider: string;
  model: string;
  account?: string;
  /** who called: a client key's name, "master" for API_KEY (none: the gateway is open) */
  key?: string;
  /** targets tried before the one that served (or failed last), as `provider/model:status` */
  fallbacks?: string[];
  status: number;
  durationMs: number;
}

export interface UsageRecord extends RequestFacts {
  tokensIn: number;
  tokensOut: number;
  tokensCached: number;
  stream: boolean;
  error?: string;
}

export const GROUPS = ['provider', 'model', 'account', 'key', 'status'] as const;
export type GroupBy = (typeof GROUPS)[number];

interface Cell {
  requests: number;
  errors: number;
  tokensIn: number;
  tokensOut: number;
  tokensCached: number;
  durationMs: number;
}

const MINUTE = 60_000;
const empty = (): Cell => ({ requests: 0, errors: 0, tokensIn: 0, tokensOut: 0, tokensCached: 0, durationMs: 0 });

function add(c: Cell, r: UsageRecord | Cell, requests = 1): void {
  c.requests += 'requests' in r ? r.requests : requests;
  c.errors += 'errors' in r ? r.errors : r.status >= 400 ? 1 : 0;
  c.tokensIn += r.tokensIn;
  c.tokensOut += r.tokensOut;
  c.tokensCached += r.tokensCached;
  c.durationMs += r.durationMs;
}

export interface UsageQuery {
  since: number;
  until: number;
  /** bucket width in ms (a multiple of a minute) */
  bucketMs: number;
  groupBy: GroupBy;
  /** only the records with these values (e.g. one key's) */
  where?: Partial<Record<GroupBy, string>>;
}

export interface UsageSeries {
  group: string;
  totals: Cell;
  /** one cell per bucket, aligned with `buckets` */
  points: Cell[];
}

export class UsageBook {
  /** minute -> "dimension key" -> cell */
  private readonly minutes = new Map<number, Map<string, { dims: Record<GroupBy, string>; cell: Cell }>>();
  readonly log: DailyJsonl<UsageRecord>;

  constructor(dir: string, private readonly retentionDays: number) {
    this.log = new DailyJsonl<UsageRecord>(dir, 'usage', retentionDays);
  }

  async start(now = Date.now()): Promise<void> {
    await this.log.start();
    const since = this.retentionDays ? now - this.retentionDays * 86_400_000 : 0;
    for (const r of await this.log.read(since)) this.aggregate(r);
  }

  record(r: UsageRecord): void {
    this.log.append(r);
    this.aggregate(r);
  }

  private aggregate(r: UsageRecord): void {
    const minute = Math.floor(r.t / MINUTE) * MINUTE;
    let m = this.minutes.get(minute);
    if (!m) this.minutes.set(minute, (m = new Map()));
    // the cell's key, in GROUPS order; its dims object is made once, with the cell
    const k = `${r.provider}\u0000${r.model}\u0000${r.account ?? '-'}\u0000${r.key ?? '-'}\u0000${r.status}`;
    let e = m.get(k);
    if (!e) m.set(k, (e = { dims: { provider: r.provider, model: r.model, account: r.account ?? '-', key: r.key ?? '-', status: String(r.status) }, cell: empty() }));
    add(e.cell, r);
  }

  /** drops aggregates past the retention (the day files go with DailyJsonl.sweep) */
  prune(now = Date.now()): void {
    if (!this.retentionDays) return;
    const cutoff = now - this.retentionDays * 86_400_000;
    for (const minute of this.minutes.keys()) if (minute < cutoff) this.minutes.delete(minute);
  }

  query(q: UsageQuery): { buckets: number[]; totals: Cell; series: UsageSeries[] } {
    const bucketMs = Math.max(MINUTE, Math.round(q.bucketMs / MINUTE) * MINUTE);
    const first = Math.floor(q.since / bucketMs) * bucketMs;
    const n = Math.max(1, Math.ceil((q.until - first) / bucketMs));
    const buckets = Array.from({ length: n }, (_, i) => first + i * bucketMs);
    const series = new Map<string, UsageSeries>();
    const totals = empty();
    const where = Object.entries(q.where ?? {}) as [GroupBy, string][];
    for (const [minute, cells] of this.minutes) {
      if (minute < q.since - (q.since % MINUTE) || minute >= q.until) continue;
      const i = Math.floor((minute - first) / bucketMs);
      if (i < 0 || i >= n) continue;
      for (const { dims, cell } of cells.values()) {
        if (where.some(([g, v]) => dims[g] !== v)) continue;
        const group = dims[q.groupBy];
        let s = series.get(group);
        if (!s) series.set(group, (s = { group, totals: empty(), points: buckets.map(empty) }));
        add(s.points[i]!, cell);
        add(s.totals, cell);
        add(totals, cell);
      }
    }
    return { buckets, totals, series: [...series.values()].sort((a, b) => b.totals.requests - a.totals.requests) };
  }
}
