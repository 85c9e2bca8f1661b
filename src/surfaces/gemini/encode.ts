/**
 * StreamParts -> GenerateContentResponse, as JSON, as SSE (`alt=sse`: one response
 * per `data:` line) or as the streamed JSON array (no `alt`).
 *
 * | StreamPart      | Gemini part / field                                  |
 * |-----------------|------------------------------------------------------|
 * | text-delta      | {text}                                               |
 * | reasoning-delta | {text, thought: true} (+ thoughtSignature)           |
 * | tool-call       | {functionCall: {name, args, id}}                     |
 * | usage           | usageMetadata (prompt/candidates/total/cached)       |
 * | finish stop / length / tool-calls / content-filter | STOP / MAX_TOKENS / STOP / SAFETY |
 */
import type { ChatRequest } from '../../core/request.js';
import type { CollectedResponse, FinishReason, StreamPart, Usage } from '../../core/stream.js';
import type { CligateError } from '../../core/errors.js';
import { estimateInputTokens } from '../../features/token-estimate.js';
import { sseFrame, SSE_CONTENT_TYPE, SSE_KEEPALIVE, type StreamEncoder } from '../types.js';
import { geminiErrorBody } from './errors.js';
import { argumentsObject, StreamEnd } from '../shared.js';

const FINISH: Record<FinishReason, string> = {
  stop: 'STOP',
  length: 'MAX_TOKENS',
  'tool-calls': 'STOP',
  'content-filter': 'SAFETY',
  error: 'OTHER',
};

type GeminiPartOut = Record<string, unknown>;

export function geminiUsage(u: Usage) {
  return {
    promptTokenCount: u.inputTokens,
    candidatesTokenCount: u.outputTokens,
    totalTokenCount: u.inputTokens + u.outputTokens,
    ...(u.cacheReadTokens ? { cachedContentTokenCount: u.cacheReadTokens } : {}),
  };
}

function response(req: ChatRequest, id: string, parts: GeminiPartOut[], extra: { finishReason?: string; usage?: Usage } = {}) {
  const candidate: Record<string, unknown> = { content: { role: 'model', parts }, index: 0 };
  if (extra.finishReason) candidate.finishReason = extra.finishReason;
  return {
    candidates: [candidate],
    ...(extra.usage ? { usageMetadata: geminiUsage(extra.usage) } : {}),
    modelVersion: req.model,
    responseId: id,
  };
}

export type GeminiFraming = 'sse' | 'array';

export class GeminiStreamEncoder implements StreamEncoder {
  readonly contentType: string;
  private readonly tail = new StreamEnd();
  private count = 0;

  constructor(
    private readonly req: ChatRequest,
    private readonly id: string,
    private readonly framing: GeminiFraming,
  ) {
    this.contentType = framing === 'sse' ? SSE_CONTENT_TYPE : 'application/json; charset=utf-8';
  }

  private frame(obj: unknown): string {
    if (this.framing === 'sse') return sseFrame(obj);
    // the JSON-array form: "[" then elements separated by ",\r\n", then "]"
    return `${this.count++ === 0 ? '' : ',\r\n'}${JSON.stringify(obj)}`;
  }

  open(): string[] {
    return this.framing === 'array' ? ['['] : [];
  }

  keepalive(): string {
    // whitespace between array elements is valid JSON; SSE has comments
    return this.framing === 'sse' ? SSE_KEEPALIVE : '\n';
  }

  part(part: StreamPart): string[] {
    if (this.tail.record(part)) return [];
    switch (part.type) {
      case 'text-delta':
        return [this.frame(response(this.req, this.id, [{ text: part.text }]))];
      case 'reasoning-delta':
        return [this.frame(response(this.req, this.id, [{ text: part.text, thought: true, ...(part.signature ? { thoughtSignature: part.signature } : {}) }]))];
      case 'tool-call':
        return [this.frame(response(this.req, this.id, [{ functionCall: { name: part.name, args: argumentsObject(part.arguments), id: part.id } }]))];
      default:
        return [];
    }
  }

  end(): string[] {
    const usage = this.tail.usage ?? { inputTokens: estimateInputTokens(this.req), outputTokens: 0 };
    const frames = [this.frame(response(this.req, this.id, [{ text: '' }], { finishReason: FINISH[this.tail.finish], usage }))];
    if (this.framing === 'array') frames.push(']');
    return frames;
  }

  error(err: CligateError): string[] {
    const frames = [this.frame(geminiErrorBody(err))];
    if (this.framing === 'array') frames.push(']');
    return frames;
  }
}

export function encodeGenerateContent(req: ChatRequest, id: string, r: CollectedResponse) {
  const parts: GeminiPartOut[] = [];
  if (r.reasoning) parts.push({ text: r.reasoning, thought: true });
  if (r.text) parts.push({ text: r.text });
  for (const c of r.toolCalls) parts.push({ functionCall: { name: c.name, args: argumentsObject(c.arguments), id: c.id } });
  const usage = r.usage ?? { inputTokens: estimateInputTokens(req), outputTokens: 0 };
  return response(req, id, parts, { finishReason: FINISH[r.finishReason], usage });
}
