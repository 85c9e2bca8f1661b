/**
 * Keeps tool chatter out of a CLI's answer. A CLI that may use tools often writes a
 * preamble ("Let me search…") before a tool call. Text is held until we know it is
 * not followed by a tool call, until it grows past HOLD_CHARS, or until it has been held
 * PREAMBLE_HOLD_MS (the runner calls release(): a slow model's answer must not wait for
 * 240 characters); then it is taken for the answer and streams live. With holding off,
 * every delta passes at once.
 */
import type { StreamPart } from '../core/stream.js';

export const HOLD_CHARS = 240;
/** the default of PREAMBLE_HOLD_MS */
export const HOLD_MS = 1000;

export class PreambleFilter {
  private held = '';
  private live = false;
  private emitted = false;
  private since: number | undefined;

  constructor(private readonly holding: boolean) {}

  /** some answer text has been let through */
  get emittedText(): boolean {
    return this.emitted;
  }

  /** when (performance.now()) the text held now began to be held; undefined when nothing is */
  get heldSince(): number | undefined {
    return this.since;
  }

  /** new answer text */
  text(text: string): StreamPart[] {
    if (!text) return [];
    if (this.live || !this.holding) return this.out(text);
    if (!this.held) this.since = performance.now();
    this.held += text;
    if (this.held.length > HOLD_CHARS) {
      this.live = true;
      return this.flush();
    }
    return [{ type: 'keepalive' }];
  }

  /** the hold ran out with no tool call: what is held is the answer, and what follows streams live */
  release(): StreamPart[] {
    if (!this.held) return [];
    this.live = true;
    return this.flush();
  }

  /** a tool call follows: what is held was a preamble */
  toolCall(): void {
    this.held = '';
    this.since = undefined;
    this.live = false;
  }

  /** a new message or block starts: what is held is answer text */
  boundary(): StreamPart[] {
    const parts = this.flush();
    this.live = false;
    return parts;
  }

  flush(): StreamPart[] {
    const text = this.held;
    this.held = '';
    this.since = undefined;
    return text ? this.out(text) : [];
  }

  private out(text: string): StreamPart[] {
    this.emitted = true;
    return [{ type: 'text-delta', text }];
  }
}

/** JSON object lines only; anything else a CLI prints on stdout is ignored */
export function parseJsonLine<T extends { type: string }>(raw: string): T | undefined {
  const s = raw.trim();
  if (!s.startsWith('{')) return undefined;
  try {
    const v = JSON.parse(s) as T;
    return typeof v === 'object' && v !== null && typeof v.type === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}
