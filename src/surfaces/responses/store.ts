/**
 * Stored responses, for `previous_response_id` and GET/DELETE /v1/responses/{id}: beside the
 * surface, since only this dialect keeps conversation state. In this process's memory by
 * default (bounded by bytes, oldest out first, each entry with a TTL), or in the shared
 * state (Redis) when several instances run, so any of them continues a conversation.
 */
import type { ChatMessage } from '../../core/request.js';
import type { SharedState } from '../../state/shared-state.js';

export interface StoredResponse {
  /** the response object as GET returns it */
  response: Record<string, unknown>;
  /** the conversation a next turn continues: every message up to and including this answer */
  messages: ChatMessage[];
}

export interface ResponseStore {
  get(id: string): Promise<StoredResponse | undefined>;
  put(id: string, value: StoredResponse): Promise<void>;
  /** true when there was one to delete */
  delete(id: string): Promise<boolean>;
}

export interface ResponseStoreLimits {
  ttlMs: number;
  /** memory: all entries together; shared: one entry (larger ones are not stored) */
  maxBytes: number;
}

export class MemoryResponseStore implements ResponseStore {
  private readonly entries = new Map<string, { json: string; until: number }>();
  private bytes = 0;

  constructor(private readonly limits: ResponseStoreLimits) {}

  async get(id: string): Promise<StoredResponse | undefined> {
    const e = this.entries.get(id);
    if (!e) return undefined;
    if (e.until <= Date.now()) {
      this.drop(id);
      return undefined;
    }
    return JSON.parse(e.json) as StoredResponse;
  }

  async put(id: string, value: StoredResponse): Promise<void> {
    const json = JSON.stringify(value);
    this.drop(id);
    if (json.length > this.limits.maxBytes) return;
    this.entries.set(id, { json, until: Date.now() + this.limits.ttlMs });
    this.bytes += json.length;
    // Map keeps insertion order: the oldest go first
    for (const key of this.entries.keys()) {
      if (this.bytes <= this.limits.maxBytes) break;
      this.drop(key);
    }
  }

  async delete(id: string): Promise<boolean> {
    const had = this.entries.has(id) && (await this.get(id)) !== undefined;
    this.drop(id);
    return had;
  }

  private drop(id: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    this.bytes -= e.json.length;
    this.entries.delete(id);
  }
}

export class SharedResponseStore implements ResponseStore {
  constructor(
    private readonly state: SharedState,
    private readonly limits: ResponseStoreLimits,
  ) {}

  private key(id: string): string {
    return `responses:${id}`;
  }

  get(id: string): Promise<StoredResponse | undefined> {
    return this.state.getJson<StoredResponse>(this.key(id));
  }

  async put(id: string, value: StoredResponse): Promise<void> {
    if (JSON.stringify(value).length > this.limits.maxBytes) return;
    await this.state.setJson(this.key(id), value, this.limits.ttlMs);
  }

  async delete(id: string): Promise<boolean> {
    const had = (await this.get(id)) !== undefined;
    if (had) await this.state.del(this.key(id));
    return had;
  }
}

/** Redis when the instances share state, else this process's memory */
export function responseStore(limits: ResponseStoreLimits, shared?: SharedState): ResponseStore {
  return shared?.kind === 'redis' ? new SharedResponseStore(shared, limits) : new MemoryResponseStore(limits);
}
