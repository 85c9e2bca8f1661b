/**
 * The streaming side of tool-call emulation: answer text streams live until a call
 * could be starting (a <tool_call> block, <invoke> markup, or a code fence, which is
 * held until it closes and shown as text unless it is a call); from the first call on,
 * the rest of the answer is read as calls when the stream ends.
 */
import { randomBytes } from 'node:crypto';
import type { StreamPart } from '../../core/stream.js';
import type { ToolChoice, ToolDefinition } from '../../core/request.js';
import { CALL_OPEN } from './prompt.js';
import { checkCalls, extractCalls, ToolCallError } from './parse.js';

const CAPTURE = [CALL_OPEN, '<function_calls>', '<invoke '];
const FENCE = '```';
const MARKERS = [...CAPTURE, FENCE];

export function toolCallId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return `call_${[...randomBytes(24)].map((b) => alphabet[b % alphabet.length]).join('')}`;
}

/** length of the longest end of `s` that could be the start of a marker */
function partialMarker(s: string): number {
  let best = 0;
  for (const m of MARKERS) {
    for (let n = Math.min(m.length - 1, s.length); n > best; n--) {
      if (s.endsWith(m.slice(0, n))) {
        best = n;
        break;
      }
    }
  }
  return best;
}

export class ToolCallExtractor {
  private held = '';
  private inFence = false;
  private captured: string | undefined;
  private readonly names: ReadonlySet<string>;

  constructor(
    private readonly tools: ToolDefinition[],
    private readonly choice: ToolChoice | undefined,
  ) {
    this.names = new Set(tools.map((t) => t.name));
  }

  /** answer text in; what can be shown now out */
  text(delta: string): string {
    if (this.captured !== undefined) {
      this.captured += delta;
      return '';
    }
    this.held += delta;
    let out = '';
    for (;;) {
      if (this.inFence) {
        const close = this.held.indexOf(FENCE, FENCE.length);
        if (close < 0) return out;
        const fence = this.held.slice(0, close + FENCE.length);
        if (extractCalls(fence, this.names).calls.length) {
          this.captured = this.held;
          this.held = '';
          return out;
        }
        out += fence;
        this.held = this.held.slice(fence.length);
        this.inFence = false;
        continue;
      }
      const hits = MARKERS.map((m) => ({ m, at: this.held.indexOf(m) })).filter((h) => h.at >= 0);
      if (!hits.length) {
        const keep = partialMarker(this.held);
        out += this.held.slice(0, this.held.length - keep);
        this.held = this.held.slice(this.held.length - keep);
        return out;
      }
      const first = hits.reduce((a, b) => (b.at < a.at ? b : a));
      out += this.held.slice(0, first.at);
      this.held = this.held.slice(first.at);
      if (first.m === FENCE) {
        this.inFence = true;
        continue;
      }
      this.captured = this.held;
      this.held = '';
      return out;
    }
  }

  /** the answer is complete: remaining text, and the calls it made */
  end(): { text: string; calls: { id: string; name: string; arguments: string }[] } {
    const tail = this.captured ?? this.held;
    const found = extractCalls(tail, this.names);
    if (found.error) throw new ToolCallError(`The model's tool call could not be read: ${found.error}`);
    const problem = checkCalls(found.calls, this.tools, this.choice);
    if (problem) throw new ToolCallError(`The model's answer does not fit the request: ${problem}.`);
    if (!found.calls.length) return { text: tail, calls: [] };
    return { text: '', calls: found.calls.map((c) => ({ id: toolCallId(), ...c })) };
  }
}

/** wraps a provider's stream: text with calls in it becomes text + tool-call parts */
export async function* emulateToolCalls(
  parts: AsyncIterable<StreamPart>,
  tools: ToolDefinition[],
  choice: ToolChoice | undefined,
): AsyncGenerator<StreamPart> {
  const x = new ToolCallExtractor(tools, choice);
  let ended = false;
  function* finishWith(reason: StreamPart & { type: 'finish' }): Generator<StreamPart> {
    ended = true;
    let result;
    try {
      result = x.end();
    } catch (err) {
      yield { type: 'error', error: err as ToolCallError };
      return;
    }
    if (result.text) yield { type: 'text-delta', text: result.text };
    for (const c of result.calls) yield { type: 'tool-call', ...c };
    yield result.calls.length ? { type: 'finish', reason: 'tool-calls' } : reason;
  }
  for await (const part of parts) {
    if (part.type === 'text-delta') {
      const shown = x.text(part.text);
      yield shown ? { type: 'text-delta', text: shown } : { type: 'keepalive' };
    } else if (part.type === 'finish' && !ended) {
      yield* finishWith(part);
    } else if (part.type === 'error') {
      ended = true;
      yield part;
    } else {
      yield part;
    }
  }
  if (!ended) yield* finishWith({ type: 'finish', reason: 'stop' });
}
