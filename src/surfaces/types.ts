/**
 * What a surface is: a dialect's decoder, encoders and error shape. The server
 * drives any surface the same way, so adding a dialect touches no provider.
 */
import type { ChatRequest } from '../core/request.js';
import type { CollectedResponse, StreamPart } from '../core/stream.js';
import type { CligateError } from '../core/errors.js';

export type Headers = Record<string, string | string[] | undefined>;

/** Turns a stream of parts into SSE frames for one response. */
export interface StreamEncoder {
  /** frames for one part (possibly none) */
  part(part: StreamPart): string[];
  /** frames that close a successful stream */
  end(): string[];
  /** frames that close a stream that failed after it opened */
  error(err: CligateError): string[];
}

export interface Surface {
  readonly dialect: string;
  decode(body: unknown, headers: Headers, params?: Record<string, string>): ChatRequest;
  streamEncoder(req: ChatRequest, id: string): StreamEncoder;
  encodeResponse(req: ChatRequest, id: string, res: CollectedResponse): unknown;
  errorBody(err: CligateError): unknown;
}

/** One SSE event; `event` names it for dialects that use named events. */
export function sseFrame(data: unknown, event?: string): string {
  const payload = typeof data === 'string' ? data : JSON.stringify(data);
  return `${event ? `event: ${event}\n` : ''}data: ${payload}\n\n`;
}
