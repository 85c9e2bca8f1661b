/**
 * StreamPart: the single internal response language. Providers yield it; features
 * transform it; surfaces encode it into their JSON or SSE.
 */
import type { CligateError } from './errors.js';

export interface Usage {
  /** the whole prompt, cached tokens included */
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens?: number;
  cacheCreationTokens?: number;
}

export type FinishReason = 'stop' | 'length' | 'tool-calls' | 'content-filter' | 'error';

export type StreamPart =
  | { type: 'text-delta'; text: string }
  | { type: 'reasoning-delta'; text: string; signature?: string }
  | { type: 'tool-call'; id: string; name: string; arguments: string }
  | { type: 'usage'; usage: Usage }
  | { type: 'finish'; reason: FinishReason }
  | { type: 'error'; error: CligateError }
  /** nothing to say yet, but the upstream is alive (surfaces may send a keepalive) */
  | { type: 'keepalive' }
  | { type: 'progress'; message: string };

/** What a whole stream adds up to, for non-streaming responses. */
export interface CollectedResponse {
  text: string;
  reasoning: string;
  /** the upstream's signature over the reasoning (Claude thinking), needed to send it back */
  reasoningSignature?: string;
  toolCalls: { id: string; name: string; arguments: string }[];
  usage?: Usage;
  finishReason: FinishReason;
}

/** Drain a stream into one response; an error part is thrown. `see` is shown every part. */
export async function collect(parts: AsyncIterable<StreamPart>, see?: (part: StreamPart) => void): Promise<CollectedResponse> {
  const out: CollectedResponse = { text: '', reasoning: '', toolCalls: [], finishReason: 'stop' };
  for await (const part of parts) {
    see?.(part);
    switch (part.type) {
      case 'text-delta':
        out.text += part.text;
        break;
      case 'reasoning-delta':
        out.reasoning += part.text;
        if (part.signature) out.reasoningSignature = part.signature;
        break;
      case 'tool-call':
        out.toolCalls.push({ id: part.id, name: part.name, arguments: part.arguments });
        break;
      case 'usage':
        out.usage = part.usage;
        break;
      case 'finish':
        out.finishReason = part.reason;
        break;
      case 'error':
        throw part.error;
      default:
        break;
    }
  }
  return out;
}
