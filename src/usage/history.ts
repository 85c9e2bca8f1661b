/**
 * Recent chats for the admin history viewer: request and answer text, each cut to a
 * limit, the newest `limit` kept in memory and every entry appended to day files
 * (same retention as usage). Off with HISTORY_ENABLED=false: then nothing is kept.
 */
import { DailyJsonl } from './daily-jsonl.js';
import type { RequestFacts } from './book.js';

export interface HistoryEntry extends RequestFacts {
  /** the last user turn (and how many messages came with it) */
  prompt: string;
  messages: number;
  answer: string;
  toolCalls?: string[];
  error?: string;
}

export class History {
  private readonly recent: HistoryEntry[] = [];
  readonly log: DailyJsonl<HistoryEntry>;

  constructor(
    dir: string,
    retentionDays: number,
    readonly opts: { enabled: boolean; maxChars: number; limit: number },
  ) {
    this.log = new DailyJsonl<HistoryEntry>(dir, 'history', retentionDays);
  }

  async start(): Promise<void> {
    if (!this.opts.enabled) return;
    await this.log.start();
    const all = await this.log.read();
    this.recent.push(...all.slice(-this.opts.limit));
  }

  cut(text: string): string {
    return text.length > this.opts.maxChars ? `${text.slice(0, this.opts.maxChars)}… [${text.length - this.opts.maxChars} more characters]` : text;
  }

  add(entry: HistoryEntry): void {
    if (!this.opts.enabled) return;
    const max = this.opts.maxChars;
    // copied only when a text is cut (the caller's entry is left as it is)
    const e = entry.prompt.length > max || entry.answer.length > max ? { ...entry, prompt: this.cut(entry.prompt), answer: this.cut(entry.answer) } : entry;
    this.recent.push(e);
    // exactly `limit` kept: a batched trim held up to a quarter more (the soak's memory check saw it) to save moving a few hundred pointers
    if (this.recent.length > this.opts.limit) this.recent.splice(0, this.recent.length - this.opts.limit);
    this.log.append(e);
  }

  /** newest first */
  list(opts: { limit?: number; provider?: string; model?: string; key?: string; q?: string } = {}): HistoryEntry[] {
    const q = opts.q?.toLowerCase();
    return this.recent
      .filter((e) => (!opts.provider || e.provider === opts.provider) && (!opts.model || e.model === opts.model) && (!opts.key || e.key === opts.key) && (!q || e.prompt.toLowerCase().includes(q) || e.answer.toLowerCase().includes(q)))
      .slice(-(opts.limit ?? 50))
      .reverse();
  }

  get(requestId: string): HistoryEntry | undefined {
    return this.recent.find((e) => e.requestId === requestId);
  }
}
