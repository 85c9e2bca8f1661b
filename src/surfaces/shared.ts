/** Small pieces every surface needs the same way. */
import type { ChatMessage, ContentPart, ImagePart } from '../core/request.js';
import type { FinishReason, StreamPart, Usage } from '../core/stream.js';
import { BadRequest } from '../core/errors.js';

export const DATA_URL = /^data:([^;,]+)?(;base64)?,(.*)$/s;

/** An image given by URL (OpenAI's dialects): a base64 data URL is inline, an http(s) URL is fetched later. `field` names it in errors. */
export function imageFromUrl(url: string, field: string, param: string): ImagePart {
  const m = DATA_URL.exec(url);
  if (m) {
    if (!m[2]) throw new BadRequest(`${field}: data URLs must be base64-encoded`, { param });
    return { type: 'image', data: m[3] ?? '', mediaType: m[1] ?? 'application/octet-stream' };
  }
  if (!/^https?:\/\//i.test(url)) throw new BadRequest(`${field} must be an http(s) URL or a base64 data URL`, { param });
  return { type: 'image', url };
}

/**
 * A system message inside the conversation: before the first turn it belongs to the system
 * prompt; later it is an instruction at its place (a `system` message), never dropped.
 */
export function placeSystem(text: string, messages: ChatMessage[], system: string[]): void {
  if (!text) return;
  if (messages.length === 0) system.push(text);
  else messages.push({ role: 'system', content: [{ type: 'text', text }] });
}

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
