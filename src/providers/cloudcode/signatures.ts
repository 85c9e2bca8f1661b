/**
 * What cligate saw of the thinking the upstream signed, kept so a later turn can send it back
 * when the client dropped it (OpenAI chat has no place for a signature, Gemini clients may drop
 * thought parts, Responses reasoning items carry the signature but no text without summaries).
 *
 * Every key carries the model family ("claude", "gemini", …) and the conversation (the session
 * key), so a signature never goes to another family's turn or another conversation:
 * - a tool-call turn, under each call id it issued: its signed thinking blocks (text and
 *   signature, in their order, all of them before the calls) and the call's own signature
 *   (Gemini signs the functionCall part);
 * - thinking text a client sends back without its signature, under a hash of the text.
 *
 * Bounded: an LRU in this process (entries, characters, TTL). Turn entries also go to the
 * SharedState when it is Redis, with the same TTL, so the next turn may land on another
 * instance. The memory SharedState is not written: it has no size bound, and this LRU already
 * is this process's memory.
 */
import { createHash } from 'node:crypto';
import type { SharedState } from '../../state/shared-state.js';

/** Cloud Code's documented stand-in when a Gemini signature is missing (not for Claude: its thinking must be the signed original) */
export const SKIP_SIGNATURE = 'skip_thought_signature_validator';

export const SIGNATURE_TTL_MS = 6 * 3_600_000;
export const SIGNATURE_MAX_ENTRIES = 10_000;
/** characters of text and signatures kept in this process, all entries together */
export const SIGNATURE_MAX_CHARS = 64 * 1024 * 1024;

export interface ThinkingBlock {
  text: string;
  signature: string;
}

/** a model turn that issued tool calls, as the upstream streamed it */
export interface TurnRecord {
  /** the signed thinking that came before the calls, in order (Claude) */
  thinking: ThinkingBlock[];
  /** the signature on this call's functionCall part (Gemini) */
  signature?: string;
}

/** whose signatures: a model family in one conversation */
export interface SignatureScope {
  family: string;
  conversation: string;
}

/** "claude-sonnet-4-5-thinking" -> "claude", "gemini-3-pro-high" -> "gemini" */
export const familyOf = (model: string): string => model.split('-')[0] || model;

export interface SignatureCacheOptions {
  /** turn entries are shared through it when it is Redis */
  shared?: SharedState;
  ttlMs?: number;
  maxEntries?: number;
  maxChars?: number;
  now?: () => number;
}

interface Entry {
  value: TurnRecord | ThinkingBlock[];
  chars: number;
  until: number;
}

const hash = (...parts: string[]) => createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 40);

export class SignatureCache {
  private readonly local = new Map<string, Entry>();
  private chars = 0;
  private readonly remote: SharedState | undefined;
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly maxChars: number;
  private readonly now: () => number;

  constructor(opts: SignatureCacheOptions = {}) {
    this.remote = opts.shared?.kind === 'redis' ? opts.shared : undefined;
    this.ttlMs = opts.ttlMs ?? SIGNATURE_TTL_MS;
    this.maxEntries = opts.maxEntries ?? SIGNATURE_MAX_ENTRIES;
    this.maxChars = opts.maxChars ?? SIGNATURE_MAX_CHARS;
    this.now = opts.now ?? Date.now;
  }

  /** entries and characters held in this process */
  get size(): { entries: number; chars: number } {
    return { entries: this.local.size, chars: this.chars };
  }

  get shared(): boolean {
    return this.remote !== undefined;
  }

  private static turnKey(scope: SignatureScope, callId: string): string {
    return `cloudcode:turn:${scope.family}:${hash(scope.conversation, callId)}`;
  }

  private static textKey(scope: SignatureScope, text: string): string {
    return `cloudcode:text:${scope.family}:${hash(scope.conversation, text)}`;
  }

  private put(key: string, value: Entry['value']): void {
    this.drop(key);
    const chars = key.length + JSON.stringify(value).length;
    if (chars > this.maxChars) return;
    this.local.set(key, { value, chars, until: this.now() + this.ttlMs });
    this.chars += chars;
    // oldest out until both bounds hold
    while (this.local.size > this.maxEntries || this.chars > this.maxChars) this.drop(this.local.keys().next().value!);
  }

  private drop(key: string): void {
    const e = this.local.get(key);
    if (!e) return;
    this.local.delete(key);
    this.chars -= e.chars;
  }

  private get<T extends Entry['value']>(key: string): T | undefined {
    const e = this.local.get(key);
    if (!e) return undefined;
    if (e.until <= this.now()) {
      this.drop(key);
      return undefined;
    }
    // recently used: to the back of the line
    this.local.delete(key);
    this.local.set(key, e);
    return e.value as T;
  }

  /** thinking blocks streamed so far in a turn, findable by their text joined */
  forThinking(scope: SignatureScope, blocks: ThinkingBlock[]): void {
    if (blocks.length) this.put(SignatureCache.textKey(scope, blocks.map((b) => b.text).join('')), blocks);
  }

  /** the signed blocks whose text, joined, is this text (this process only) */
  thinking(scope: SignatureScope, text: string): ThinkingBlock[] | undefined {
    return text ? this.get<ThinkingBlock[]>(SignatureCache.textKey(scope, text)) : undefined;
  }

  /** a tool-call turn known to this process */
  localTurn(scope: SignatureScope, callId: string): TurnRecord | undefined {
    return this.get<TurnRecord>(SignatureCache.turnKey(scope, callId));
  }

  /** a tool-call turn, from this process or else the shared state (which then fills this process's copy) */
  async turn(scope: SignatureScope, callId: string): Promise<TurnRecord | undefined> {
    const key = SignatureCache.turnKey(scope, callId);
    const mine = this.get<TurnRecord>(key);
    if (mine || !this.remote) return mine;
    const theirs = await this.remote.getJson<TurnRecord>(key);
    if (theirs) this.put(key, theirs);
    return theirs;
  }

  /** remembers a tool-call turn under each of its call ids; resolves once the shared state has it */
  async saveTurn(scope: SignatureScope, callIds: string[], record: TurnRecord): Promise<void> {
    for (const id of callIds) this.put(SignatureCache.turnKey(scope, id), record);
    if (this.remote) await Promise.all(callIds.map((id) => this.remote!.setJson(SignatureCache.turnKey(scope, id), record, this.ttlMs)));
  }
}
