/**
 * StreamParts -> Anthropic Messages JSON and SSE, in the exact event order:
 * message_start, content_block_start, ping, content_block_delta…, content_block_stop,
 * message_delta (stop_reason, usage), message_stop.
 *
 * | StreamPart       | Anthropic                                                    |
 * |------------------|--------------------------------------------------------------|
 * | text-delta       | text block, text_delta                                       |
 * | reasoning-delta  | thinking block, thinking_delta (+ signature_delta at close)  |
 * | tool-call        | tool_use block, one input_json_delta with the arguments      |
 * | usage            | message_delta.usage (input excludes cached, as Anthropic's)  |
 * | finish stop / length / tool-calls / content-filter | end_turn / max_tokens / tool_use / refusal |
 */
import type { ChatRequest } from '../../core/request.js';
import type { CollectedResponse, FinishReason, StreamPart, Usage } from '../../core/stream.js';
import type { CligateError } from '../../core/errors.js';
import { estimateInputTokens } from '../../features/token-estimate.js';
import { sseFrame, SSE_CONTENT_TYPE, SSE_KEEPALIVE, type StreamEncoder } from '../types.js';
import { anthropicErrorBody } from './errors.js';
import { argumentsObject, StreamEnd } from '../shared.js';

const STOP_REASON: Record<FinishReason, string> = {
  stop: 'end_turn',
  length: 'max_tokens',
  'tool-calls': 'tool_use',
  'content-filter': 'refusal',
  error: 'end_turn',
};

export function anthropicUsage(u: Usage) {
  const cacheRead = u.cacheReadTokens ?? 0;
  const cacheCreation = u.cacheCreationTokens ?? 0;
  return {
    input_tokens: Math.max(0, u.inputTokens - cacheRead - cacheCreation),
    output_tokens: u.outputTokens,
    cache_creation_input_tokens: cacheCreation,
    cache_read_input_tokens: cacheRead,
  };
}

export class AnthropicStreamEncoder implements StreamEncoder {
  readonly contentType = SSE_CONTENT_TYPE;
  private readonly id: string;
  private started = false;
  private index = -1;
  private open_: 'text' | 'thinking' | undefined;
  private signature = '';
  private pinged = false;
  private readonly tail = new StreamEnd();

  constructor(
    private readonly req: ChatRequest,
    id: string,
  ) {
    this.id = `msg_${id}`;
  }

  open(): string[] {
    return [];
  }

  keepalive(): string {
    return SSE_KEEPALIVE;
  }

  private start(): string[] {
    if (this.started) return [];
    this.started = true;
    // the real input count comes at the end; an estimate here keeps clients' context meters honest
    const estimate = estimateInputTokens(this.req);
    return [
      sseFrame(
        {
          type: 'message_start',
          message: {
            id: this.id,
            type: 'message',
            role: 'assistant',
            model: this.req.model,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: { input_tokens: estimate, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
          },
        },
        'message_start',
      ),
    ];
  }

  private close(): string[] {
    if (!this.open_) return [];
    const frames: string[] = [];
    if (this.open_ === 'thinking' && this.signature) {
      frames.push(
        sseFrame(
          { type: 'content_block_delta', index: this.index, delta: { type: 'signature_delta', signature: this.signature } },
          'content_block_delta',
        ),
      );
    }
    frames.push(sseFrame({ type: 'content_block_stop', index: this.index }, 'content_block_stop'));
    this.open_ = undefined;
    this.signature = '';
    return frames;
  }

  private begin(block: Record<string, unknown>): string[] {
    this.index += 1;
    const frames = [sseFrame({ type: 'content_block_start', index: this.index, content_block: block }, 'content_block_start')];
    if (!this.pinged) {
      this.pinged = true;
      frames.push(sseFrame({ type: 'ping' }, 'ping'));
    }
    return frames;
  }

  private delta(delta: Record<string, unknown>): string {
    return sseFrame({ type: 'content_block_delta', index: this.index, delta }, 'content_block_delta');
  }

  part(part: StreamPart): string[] {
    if (this.tail.record(part)) return [];
    switch (part.type) {
      case 'text-delta': {
        const frames = this.start();
        if (this.open_ !== 'text') {
          frames.push(...this.close(), ...this.begin({ type: 'text', text: '' }));
          this.open_ = 'text';
        }
        frames.push(this.delta({ type: 'text_delta', text: part.text }));
        return frames;
      }
      case 'reasoning-delta': {
        const frames = this.start();
        if (this.open_ !== 'thinking') {
          frames.push(...this.close(), ...this.begin({ type: 'thinking', thinking: '', signature: '' }));
          this.open_ = 'thinking';
        }
        if (part.signature) this.signature = part.signature;
        if (part.text) frames.push(this.delta({ type: 'thinking_delta', thinking: part.text }));
        return frames;
      }
      case 'tool-call': {
        const frames = [...this.start(), ...this.close()];
        frames.push(...this.begin({ type: 'tool_use', id: part.id, name: part.name, input: {} }));
        frames.push(this.delta({ type: 'input_json_delta', partial_json: part.arguments || '{}' }));
        frames.push(sseFrame({ type: 'content_block_stop', index: this.index }, 'content_block_stop'));
        return frames;
      }
      default:
        return [];
    }
  }

  end(): string[] {
    const frames = [...this.start(), ...this.close()];
    const usage = this.tail.usage ?? { inputTokens: estimateInputTokens(this.req), outputTokens: 0 };
    frames.push(
      sseFrame(
        { type: 'message_delta', delta: { stop_reason: STOP_REASON[this.tail.finish], stop_sequence: null }, usage: anthropicUsage(usage) },
        'message_delta',
      ),
    );
    frames.push(sseFrame({ type: 'message_stop' }, 'message_stop'));
    return frames;
  }

  error(err: CligateError): string[] {
    return [sseFrame(anthropicErrorBody(err), 'error')];
  }
}

export function encodeMessage(req: ChatRequest, id: string, r: CollectedResponse) {
  const content: Record<string, unknown>[] = [];
  if (r.reasoning) content.push({ type: 'thinking', thinking: r.reasoning, signature: r.reasoningSignature ?? '' });
  if (r.text) content.push({ type: 'text', text: r.text });
  for (const c of r.toolCalls) content.push({ type: 'tool_use', id: c.id, name: c.name, input: argumentsObject(c.arguments) });
  const usage = r.usage ?? { inputTokens: estimateInputTokens(req), outputTokens: 0 };
  return {
    id: `msg_${id}`,
    type: 'message',
    role: 'assistant',
    model: req.model,
    content,
    stop_reason: STOP_REASON[r.finishReason],
    stop_sequence: null,
    usage: anthropicUsage(usage),
  };
}
