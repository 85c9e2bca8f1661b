/**
 * The reply: an AWS event stream (application/vnd.amazon.eventstream). Framing and
 * decoding are @smithy's; this turns each event into StreamParts:
 *   assistantResponseEvent {content}          -> text (or reasoning inside <thinking>…</thinking>)
 *   toolUseEvent {toolUseId,name,input,stop}  -> input pieces gathered; one tool-call at stop
 *   contextUsageEvent {contextUsagePercentage}-> input tokens (share of the context window)
 *   exception messages                        -> typed errors
 */
import { EventStreamMarshaller } from '@smithy/eventstream-serde-universal';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { jsonrepair } from 'jsonrepair';
import type { StreamPart } from '../../core/stream.js';
import { BadRequest, RateLimited, UpstreamError } from '../../core/errors.js';
import type { AssistantResponseEvent, ContextUsageEvent, ToolUseEvent } from './types.js';

const marshaller = new EventStreamMarshaller({ utf8Encoder: toUtf8, utf8Decoder: fromUtf8 });

export const CONTEXT_WINDOW = 200_000;

interface RawMessage {
  headers: Record<string, { type: string; value: unknown }>;
  body: Uint8Array;
}

/** each event's type and JSON payload, in order */
export async function* kiroEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<{ type: string; payload: any }> {
  const stream = await marshaller.deserialize(body, async (event: Record<string, RawMessage>) => event);
  const it = (stream as AsyncIterable<Record<string, RawMessage>>)[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<Record<string, RawMessage>>;
    try {
      next = await it.next();
    } catch (err) {
      // the unmarshaller throws an exception message itself (headers + body), or an Error named after it
      const raw = err as Partial<RawMessage> & Partial<Error>;
      if (raw?.headers) {
        const kind = String(raw.headers[':exception-type']?.value ?? raw.headers[':error-code']?.value ?? raw.headers[':event-type']?.value ?? 'exception');
        let payload: unknown = {};
        try {
          payload = raw.body ? JSON.parse(toUtf8(raw.body)) : {};
        } catch {
          payload = {};
        }
        throw exception(kind, payload);
      }
      if (raw?.name && raw.name !== 'Error') throw exception(raw.name, { message: raw.message });
      throw err;
    }
    if (next.done) return;
    const event = next.value;
    for (const [type, msg] of Object.entries(event)) {
      const text = toUtf8(msg.body);
      let payload: any = {};
      try {
        payload = text ? JSON.parse(text) : {};
      } catch {
        payload = { raw: text };
      }
      const kind = String(msg.headers[':message-type']?.value ?? 'event');
      if (kind !== 'event') yield { type: `!${String(msg.headers[':exception-type']?.value ?? msg.headers[':error-code']?.value ?? type)}`, payload };
      else yield { type, payload };
    }
  }
}

const OPEN = '<thinking>';
const CLOSE = '</thinking>';

/** splits a leading <thinking>…</thinking> block off the answer text, across deltas */
export class ThinkingSplitter {
  private state: 'start' | 'thinking' | 'text' = 'start';
  private buf = '';
  /** just out of a thinking block: the newlines that separate it from the answer are dropped */
  private trimLead = false;

  constructor(enabled: boolean) {
    if (!enabled) this.state = 'text';
  }

  push(delta: string): StreamPart[] {
    this.buf += delta;
    const out: StreamPart[] = [];
    for (;;) {
      if (this.state === 'text') {
        if (this.trimLead) {
          this.buf = this.buf.replace(/^\n+/, '');
          if (this.buf) this.trimLead = false;
        }
        if (this.buf) out.push({ type: 'text-delta', text: this.buf });
        this.buf = '';
        return out;
      }
      if (this.state === 'start') {
        const trimmed = this.buf.trimStart();
        if (trimmed.startsWith(OPEN)) {
          this.buf = trimmed.slice(OPEN.length).replace(/^\n/, '');
          this.state = 'thinking';
          continue;
        }
        if (OPEN.startsWith(trimmed)) return out; // could still become the tag
        this.state = 'text';
        continue;
      }
      // thinking: stream it, holding back what could be the start of the close tag
      const end = this.buf.indexOf(CLOSE);
      if (end >= 0) {
        if (end > 0) out.push({ type: 'reasoning-delta', text: this.buf.slice(0, end) });
        this.buf = this.buf.slice(end + CLOSE.length);
        this.state = 'text';
        this.trimLead = true;
        continue;
      }
      let keep = 0;
      for (let n = Math.min(CLOSE.length - 1, this.buf.length); n > 0; n--) {
        if (this.buf.endsWith(CLOSE.slice(0, n))) {
          keep = n;
          break;
        }
      }
      const emit = this.buf.slice(0, this.buf.length - keep);
      if (emit) out.push({ type: 'reasoning-delta', text: emit });
      this.buf = this.buf.slice(this.buf.length - keep);
      return out;
    }
  }

  flush(): StreamPart[] {
    const rest = this.buf;
    this.buf = '';
    if (!rest) return [];
    return [{ type: this.state === 'thinking' ? 'reasoning-delta' : 'text-delta', text: rest }];
  }
}

/** a tool's input as gathered from its pieces; a cut-short input gets one repair, else an error */
export function toolArguments(name: string, raw: string): string {
  if (!raw.trim()) return '{}';
  const cut = () => new UpstreamError(`Kiro sent a tool call to "${name}" whose input is not valid JSON (it may have been cut short): ${raw.slice(0, 200)}`, { code: 'tool_call_invalid' });
  try {
    JSON.parse(raw);
    return raw;
  } catch {
    // an input that stops before its closing brace was cut off: "repairing" it would invent values
    if (!/[}\]]\s*$/.test(raw)) throw cut();
    try {
      return JSON.stringify(JSON.parse(jsonrepair(raw)));
    } catch {
      throw cut();
    }
  }
}

export interface Translation {
  parts: StreamPart[];
  toolCalls: number;
  text: string;
  contextPercent?: number;
}

export class KiroTranslator {
  private readonly thinking: ThinkingSplitter;
  private readonly tools = new Map<string, { name: string; input: string }>();
  toolCalls = 0;
  output = '';
  contextPercent: number | undefined;

  constructor(thinking: boolean) {
    this.thinking = new ThinkingSplitter(thinking);
  }

  event(type: string, payload: any): StreamPart[] {
    if (type.startsWith('!')) throw exception(type.slice(1), payload);
    if (type === 'assistantResponseEvent') {
      const c = (payload as AssistantResponseEvent).content ?? '';
      this.output += c;
      return this.thinking.push(c);
    }
    if (type === 'toolUseEvent') {
      const e = payload as ToolUseEvent;
      if (!e.toolUseId) return [];
      const t = this.tools.get(e.toolUseId) ?? { name: e.name ?? '', input: '' };
      if (e.name) t.name = e.name;
      if (typeof e.input === 'string') t.input += e.input;
      else if (e.input && typeof e.input === 'object') t.input = JSON.stringify(e.input);
      this.tools.set(e.toolUseId, t);
      return e.stop ? this.finishTool(e.toolUseId) : [];
    }
    if (type === 'contextUsageEvent') {
      const p = (payload as ContextUsageEvent).contextUsagePercentage;
      if (typeof p === 'number') this.contextPercent = p;
    }
    return [];
  }

  private finishTool(id: string): StreamPart[] {
    const t = this.tools.get(id)!;
    this.tools.delete(id);
    const args = toolArguments(t.name, t.input);
    this.toolCalls++;
    this.output += args;
    return [...this.thinking.flush(), { type: 'tool-call', id, name: t.name, arguments: args }];
  }

  /** the stream ended: tool uses never marked stopped still count */
  end(): StreamPart[] {
    const out = this.thinking.flush();
    for (const id of [...this.tools.keys()]) out.push(...this.finishTool(id));
    return out;
  }
}

function exception(kind: string, payload: any): Error {
  const message = `Kiro error ${kind}: ${payload?.message ?? payload?.Message ?? JSON.stringify(payload).slice(0, 200)}`;
  if (/Throttling|TooManyRequests|ServiceQuota/i.test(kind)) return new RateLimited(message);
  if (/Validation|BadRequest|ContentLength/i.test(kind)) return new BadRequest(message, { code: 'upstream_rejected_request' });
  return new UpstreamError(message);
}
