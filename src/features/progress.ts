/**
 * Progress markers for "-progress" models: while the CLI works and nothing of the
 * answer has arrived, the stream shows "⏳", then a rotating ◐ ◓ ◑ ◒ with a growing
 * row of dots, each spaced twice as far as the one before (capped), so a long wait is
 * visible without being chatty. The answer follows after a blank line. Markers are
 * answer text, so they come back in later turns: stripProgress removes them there.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChatMessage } from '../core/request.js';
import type { StreamPart } from '../core/stream.js';

export const FIRST_MARKER = '⏳';
const GLYPHS = ['◐', '◓', '◑', '◒'];
const MAX_DOTS = 5;
export const ANSWER_SEPARATOR = '\n\n';

export interface ProgressTiming {
  /** wait before the first rotating marker */
  firstMs: number;
  /** the spacing never grows beyond this */
  maxMs: number;
}

/** the n-th rotating marker (0-based) */
export function progressFrame(n: number): string {
  return ` ${GLYPHS[n % GLYPHS.length]}${'.'.repeat(Math.min(n + 1, MAX_DOTS))}`;
}

/** spacing before the n-th rotating marker: first, 2×first, 4×first, … up to max */
export function progressDelay(n: number, t: ProgressTiming): number {
  return Math.min(t.firstMs * 2 ** n, t.maxMs);
}

const ANSWER = new Set<StreamPart['type']>(['text-delta', 'reasoning-delta', 'tool-call', 'finish', 'error']);

export async function* withProgress(parts: AsyncIterable<StreamPart>, timing: ProgressTiming): AsyncGenerator<StreamPart> {
  const it = parts[Symbol.asyncIterator]();
  const timers = new AbortController();
  // a timer stopped by the abort resolves quietly instead of rejecting unobserved
  const tickAfter = (ms: number) => sleep(ms, 'tick' as const, { signal: timers.signal }).catch(() => 'stopped' as const);
  try {
    yield { type: 'text-delta', text: FIRST_MARKER };
    let n = 0;
    let next = it.next();
    let tick = tickAfter(progressDelay(n, timing));
    for (;;) {
      const won = await Promise.race([next, tick]);
      if (won === 'stopped') return;
      if (won === 'tick') {
        yield { type: 'text-delta', text: progressFrame(n) };
        n++;
        tick = tickAfter(progressDelay(n, timing));
        continue;
      }
      if (won.done) return;
      const part = won.value;
      if (ANSWER.has(part.type)) {
        // the answer starts: markers end, on a line of their own
        if (part.type !== 'error') yield { type: 'text-delta', text: ANSWER_SEPARATOR };
        yield part;
        break;
      }
      yield part;
      next = it.next();
    }
    timers.abort();
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  } finally {
    timers.abort();
    await it.return?.();
  }
}

const MARKERS = new RegExp(`^${FIRST_MARKER}(?: [${GLYPHS.join('')}]\\.+)*(?:${ANSWER_SEPARATOR})?`);

/** earlier answers sent back by the client lose their markers */
export function stripProgress(messages: ChatMessage[]): ChatMessage[] {
  return messages.map((m) => {
    if (m.role !== 'assistant') return m;
    const first = m.content.findIndex((p) => p.type === 'text');
    const part = m.content[first];
    if (!part || part.type !== 'text' || !part.text.startsWith(FIRST_MARKER)) return m;
    const content = [...m.content];
    content[first] = { type: 'text', text: part.text.replace(MARKERS, '') };
    return { ...m, content };
  });
}
