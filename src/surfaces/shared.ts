/** Small pieces every surface needs the same way. */
import type { ChatMessage, ContentPart } from '../core/request.js';
import type { FinishReason, StreamPart, Usage } from '../core/stream.js';

/** A tool call's argument string as the object dialects with structured arguments want. */
export function argumentsObject(args: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(args || '{}');
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : { value: v };
  } catch {
    return {};
  }
}

/**
 * Anthropic and Gemini carry tool results inside the user turn; ChatRequest keeps
 * them in a `tool` message of their own, placed before what the user said.
 */
export function userTurn(parts: ContentPart[]): ChatMessage[] {
  const results = parts.filter((p) => p.type === 'tool-result');
  const rest = parts.filter((p) => p.type !== 'tool-result');
  const out: ChatMessage[] = [];
  if (results.length) out.push({ role: 'tool', content: results });
  if (rest.length) out.push({ role: 'user', content: rest });
  return out;
}

/** What an encoder must remember until the end of a stream: the usage and the finish reason. */
export class StreamEnd {
  usage: Usage | undefined;
  finish: FinishReason = 'stop';

  /** true when the part was one of these (and so needs no frame of its own) */
  record(part: StreamPart): boolean {
    if (part.type === 'usage') this.usage = part.usage;
    else if (part.type === 'finish') this.finish = part.reason;
    else return false;
    return true;
  }
}

/** true when a (dotted) field is present in a decoded body: for the "accepted, ignored" list a request is logged with */
export function fieldPresent(body: unknown, dotted: string): boolean {
  let v: unknown = body;
  for (const key of dotted.split('.')) {
    if (!v || typeof v !== 'object') return false;
    v = (v as Record<string, unknown>)[key];
  }
  return v !== undefined && v !== null;
}
