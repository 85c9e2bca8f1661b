/**
 * What a surface is: a dialect's decoder, encoders and error shape. The server
 * drives any surface the same way, so adding a dialect touches no provider.
 */
import type { ChatRequest } from '../core/request.js';
import type { CollectedResponse, StreamPart } from '../core/stream.js';
import type { CligateError } from '../core/errors.js';

export type Headers = Record<string, string | string[] | undefined>;

/** What a surface may read of the HTTP request besides the body. */
export interface RequestInfo {
  headers: Headers;
  /** route parameters, e.g. the Gemini model in the path */
  params: Record<string, string>;
  query: Record<string, unknown>;
}

/** Turns a stream of parts into the bytes of one streamed response. */
export interface StreamEncoder {
  readonly contentType: string;
  /** written when the response opens, before any part */
  open(): string[];
  /** written while the stream is quiet, so idle proxies keep the connection */
  keepalive(): string;
  /** frames for one part (possibly none) */
  part(part: StreamPart): string[];
  /** frames that close a successful stream (a dialect that stores its answers finishes that first) */
  end(): string[] | Promise<string[]>;
  /** frames that close a stream that failed after it opened */
  error(err: CligateError): string[];
}

export interface Surface {
  readonly dialect: string;
  /** may look up state the dialect keeps (Responses' previous_response_id) */
  decode(body: unknown, info: RequestInfo): ChatRequest | Promise<ChatRequest>;
  streamEncoder(req: ChatRequest, id: string, info: RequestInfo): StreamEncoder;
  encodeResponse(req: ChatRequest, id: string, res: CollectedResponse): unknown;
  errorBody(err: CligateError): unknown;
  /** token counting, for dialects that have an endpoint for it */
  decodeCountTokens?(body: unknown, info: RequestInfo): ChatRequest;
  encodeCountTokens?(tokens: number): unknown;
}

export const SSE_CONTENT_TYPE = 'text/event-stream; charset=utf-8';
export const SSE_KEEPALIVE = ': keepalive\n\n';

/** One SSE event; `event` names it for dialects that use named events. */
export function sseFrame(data: unknown, event?: string): string {
  const payload = typeof data === 'string' ? data : JSON.stringify(data);
  return `${event ? `event: ${event}\n` : ''}data: ${payload}\n\n`;
}
