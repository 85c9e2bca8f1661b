/**
 * An OpenAI chat-completions SSE stream -> StreamParts, chunk by chunk as they arrive:
 * text and reasoning deltas go out at once; tool calls are gathered by index (their
 * arguments come in pieces) and go out whole when the stream ends. A whole (non-stream)
 * completion goes through the same steps as one chunk whose delta is the message.
 */
import type { FinishReason, StreamPart, Usage } from '../../core/stream.js';
import { UpstreamError } from '../../core/errors.js';

const FINISH: Record<string, FinishReason> = { stop: 'stop', length: 'length', tool_calls: 'tool-calls', function_call: 'tool-calls', content_filter: 'content-filter' };

interface Delta {
  content?: string | null;
  reasoning_content?: string | null;
  reasoning?: string | null;
  tool_calls?: { index?: number; id?: string; function?: { name?: string; arguments?: string } }[];
}

export interface Chunk {
  /** `delta` in a stream's chunks, `message` in a whole completion */
  choices?: { delta?: Delta; message?: Delta; finish_reason?: string | null }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number; prompt_tokens_details?: { cached_tokens?: number } } | null;
  error?: { message?: string };
}

export class ChatCompletionsTranslator {
  private readonly calls = new Map<number, { id: string; name: string; args: string }>();
  private finish?: FinishReason;
  private usage?: Usage;

  chunk(data: string): StreamPart[] {
    if (data === '[DONE]') return [];
    let c: Chunk;
    try {
      c = JSON.parse(data) as Chunk;
    } catch {
      throw new UpstreamError(`The upstream sent an unreadable event: ${data.slice(0, 100)}`);
    }
    return this.parsed(c);
  }

  /** a whole completion: its parts, ended */
  completion(c: Chunk): StreamPart[] {
    return [...this.parsed(c), ...this.end()];
  }

  private parsed(c: Chunk): StreamPart[] {
    if (c.error) throw new UpstreamError(`The upstream failed mid-stream: ${c.error.message ?? 'unknown error'}`);
    const out: StreamPart[] = [];
    const choice = c.choices?.[0];
    const d = choice?.delta ?? choice?.message;
    const reasoning = d?.reasoning_content ?? d?.reasoning;
    if (reasoning) out.push({ type: 'reasoning-delta', text: reasoning });
    if (d?.content) out.push({ type: 'text-delta', text: d.content });
    for (const [k, t] of (d?.tool_calls ?? []).entries()) {
      // a whole message's calls carry no index: their place is their order
      const i = t.index ?? k;
      const call = this.calls.get(i) ?? { id: '', name: '', args: '' };
      if (t.id) call.id = t.id;
      if (t.function?.name) call.name += t.function.name;
      if (t.function?.arguments) call.args += t.function.arguments;
      this.calls.set(i, call);
    }
    if (choice?.finish_reason) this.finish = FINISH[choice.finish_reason] ?? 'stop';
    if (c.usage) {
      this.usage = {
        inputTokens: c.usage.prompt_tokens ?? 0,
        outputTokens: c.usage.completion_tokens ?? 0,
        ...(c.usage.prompt_tokens_details?.cached_tokens ? { cacheReadTokens: c.usage.prompt_tokens_details.cached_tokens } : {}),
      };
    }
    return out;
  }

  end(): StreamPart[] {
    const out: StreamPart[] = [...this.calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([i, c]) => ({ type: 'tool-call' as const, id: c.id || `call_${i}`, name: c.name, arguments: c.args || '{}' }));
    if (this.usage) out.push({ type: 'usage', usage: this.usage });
    out.push({ type: 'finish', reason: this.finish ?? (this.calls.size ? 'tool-calls' : 'stop') });
    return out;
  }
}
