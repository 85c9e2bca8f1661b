/** StreamParts -> OpenAI chat.completion / chat.completion.chunk, exactly as OpenAI shapes them. */
import type { ChatRequest } from '../../core/request.js';
import type { CollectedResponse, FinishReason, StreamPart, Usage } from '../../core/stream.js';
import type { CligateError } from '../../core/errors.js';
import { sseFrame, SSE_CONTENT_TYPE, SSE_KEEPALIVE, type StreamEncoder } from '../types.js';
import { openaiErrorBody } from './errors.js';
import { StreamEnd } from '../shared.js';

const FINISH: Record<FinishReason, string> = {
  stop: 'stop',
  length: 'length',
  'tool-calls': 'tool_calls',
  'content-filter': 'content_filter',
  error: 'stop',
};

export function openaiUsage(u: Usage) {
  return {
    prompt_tokens: u.inputTokens,
    completion_tokens: u.outputTokens,
    total_tokens: u.inputTokens + u.outputTokens,
    prompt_tokens_details: { cached_tokens: u.cacheReadTokens ?? 0 },
    completion_tokens_details: { reasoning_tokens: 0 },
  };
}

export class OpenAIStreamEncoder implements StreamEncoder {
  readonly contentType = SSE_CONTENT_TYPE;
  private readonly created = Math.floor(Date.now() / 1000);
  private sentRole = false;
  private toolIndex = 0;
  private readonly tail = new StreamEnd();

  private readonly id: string;

  constructor(
    private readonly req: ChatRequest,
    id: string,
  ) {
    this.id = `chatcmpl-${id}`;
  }

  /** the fields every chunk of this stream starts with, serialised once */
  private prefix?: string;

  /**
   * One chunk's frame: the bytes sseFrame({ id, object, created, model, system_fingerprint,
   * choices: [{ index, delta, logprobs, finish_reason }], usage? }) gives, with only the parts
   * that change serialised per chunk.
   */
  private chunk(delta: Record<string, unknown> | null, finishReason: string | null = null, usage?: Usage): string {
    this.prefix ??= `data: {"id":${JSON.stringify(this.id)},"object":"chat.completion.chunk","created":${this.created},"model":${JSON.stringify(this.req.model)},"system_fingerprint":null,"choices":`;
    const choices = delta === null ? '[]' : `[{"index":0,"delta":${JSON.stringify(delta)},"logprobs":null,"finish_reason":${JSON.stringify(finishReason)}}]`;
    const tail = this.req.includeUsage ? `,"usage":${usage ? JSON.stringify(openaiUsage(usage)) : 'null'}` : '';
    return `${this.prefix}${choices}${tail}}\n\n`;
  }

  /** the first delta carries the role */
  private delta(fields: Record<string, unknown>): string[] {
    if (this.sentRole) return [this.chunk(fields)];
    this.sentRole = true;
    return [this.chunk({ role: 'assistant', content: '', ...fields })];
  }

  open(): string[] {
    return [];
  }

  keepalive(): string {
    return SSE_KEEPALIVE;
  }

  part(part: StreamPart): string[] {
    if (this.tail.record(part)) return [];
    switch (part.type) {
      case 'text-delta':
        return this.delta({ content: part.text });
      case 'reasoning-delta':
        return this.delta({ reasoning_content: part.text });
      case 'tool-call': {
        const index = this.toolIndex++;
        return this.delta({
          tool_calls: [{ index, id: part.id, type: 'function', function: { name: part.name, arguments: part.arguments } }],
        });
      }
      default:
        return [];
    }
  }

  end(): string[] {
    const frames = this.sentRole ? [] : this.delta({});
    frames.push(this.chunk({}, FINISH[this.tail.finish]));
    if (this.req.includeUsage) frames.push(this.chunk(null, null, this.tail.usage ?? { inputTokens: 0, outputTokens: 0 }));
    frames.push(sseFrame('[DONE]'));
    return frames;
  }

  error(err: CligateError): string[] {
    // OpenAI reports a failure inside a stream as a data event carrying `error`
    return [sseFrame(openaiErrorBody(err)), sseFrame('[DONE]')];
  }
}

export function encodeChatCompletion(req: ChatRequest, id: string, r: CollectedResponse) {
  const message: Record<string, unknown> = { role: 'assistant', content: r.text || (r.toolCalls.length ? null : ''), refusal: null };
  if (r.reasoning) message.reasoning_content = r.reasoning;
  if (r.toolCalls.length)
    message.tool_calls = r.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
  return {
    id: `chatcmpl-${id}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: req.model,
    system_fingerprint: null,
    choices: [{ index: 0, message, logprobs: null, finish_reason: FINISH[r.finishReason] }],
    usage: openaiUsage(r.usage ?? { inputTokens: 0, outputTokens: 0 }),
  };
}
