/**
 * StreamParts -> the Responses API's `response` object and its SSE events, in the order
 * real clients parse them (Codex, the openai SDK):
 *
 *   response.created, response.in_progress,
 *   per output item: response.output_item.added, then
 *     message:   content_part.added, output_text.delta…, output_text.done, content_part.done
 *     reasoning: reasoning_summary_part.added, reasoning_summary_text.delta…, .done, part.done (summaries asked for)
 *     call:      function_call_arguments.delta, .done (custom tools: custom_tool_call_input.delta, .done)
 *   response.output_item.done, and at the end response.completed (or .incomplete / .failed),
 *   every event with its sequence_number.
 */
import type { ChatMessage, ChatRequest, ContentPart } from '../../core/request.js';
import type { CollectedResponse, FinishReason, StreamPart, Usage } from '../../core/stream.js';
import type { CligateError } from '../../core/errors.js';
import { estimateInputTokens } from '../../features/token-estimate.js';
import { sseFrame, SSE_CONTENT_TYPE, SSE_KEEPALIVE, type StreamEncoder } from '../types.js';
import { StreamEnd } from '../shared.js';
import type { ResponsesContext } from './decode.js';
import type { ResponseStore } from './store.js';

type Item = Record<string, unknown>;

export function responsesUsage(u: Usage) {
  return {
    input_tokens: u.inputTokens,
    input_tokens_details: { cached_tokens: u.cacheReadTokens ?? 0 },
    output_tokens: u.outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: u.inputTokens + u.outputTokens,
  };
}

const INCOMPLETE: Partial<Record<FinishReason, string>> = { length: 'max_output_tokens', 'content-filter': 'content_filter' };

/** What both encoders share: the response object around the output, and storing it. */
export class ResponseBuilder {
  readonly id: string;
  readonly createdAt = Math.floor(Date.now() / 1000);
  private n = 0;

  constructor(
    private readonly req: ChatRequest,
    private readonly ctx: ResponsesContext,
    id: string,
    private readonly store: ResponseStore,
  ) {
    this.id = `resp_${id}`;
  }

  /** reasoning is shown as summary text only when the client asked for summaries (reasoning.summary) */
  get summaries(): boolean {
    return this.ctx.summaries;
  }

  itemId(prefix: string): string {
    return `${prefix}_${this.id.slice(5)}_${this.n++}`;
  }

  response(status: string, output: Item[], extra: { usage?: Usage; finish?: FinishReason; error?: CligateError } = {}): Record<string, unknown> {
    const b = this.ctx.body;
    const reason = extra.finish && INCOMPLETE[extra.finish];
    return {
      id: this.id,
      object: 'response',
      created_at: this.createdAt,
      status,
      background: false,
      error: extra.error ? { code: extra.error.code, message: extra.error.message } : null,
      incomplete_details: reason ? { reason } : null,
      instructions: b.instructions ?? null,
      max_output_tokens: b.max_output_tokens ?? null,
      model: this.req.model,
      output,
      parallel_tool_calls: b.parallel_tool_calls ?? true,
      previous_response_id: b.previous_response_id ?? null,
      reasoning: { effort: b.reasoning?.effort ?? null, summary: b.reasoning?.summary ?? null },
      store: b.store !== false,
      temperature: b.temperature ?? 1,
      text: { format: b.text?.format ?? { type: 'text' } },
      tool_choice: b.tool_choice ?? 'auto',
      tools: b.tools ?? [],
      top_p: b.top_p ?? 1,
      truncation: 'disabled',
      usage: extra.usage ? responsesUsage(extra.usage) : null,
      user: b.user ?? null,
      metadata: b.metadata ?? {},
    };
  }

  /** the finished response, stored (unless store: false) with the conversation it ends */
  async finish(output: Item[], answer: ContentPart[], usage: Usage | undefined, finish: FinishReason): Promise<Record<string, unknown>> {
    const status = INCOMPLETE[finish] ? 'incomplete' : 'completed';
    // no usage from the provider: the input is estimated, as the other dialects do
    const response = this.response(status, output, { usage: usage ?? { inputTokens: estimateInputTokens(this.req), outputTokens: 0 }, finish });
    if (this.ctx.body.store !== false) {
      const messages: ChatMessage[] = answer.length ? [...this.ctx.messages, { role: 'assistant', content: answer }] : this.ctx.messages;
      await this.store.put(this.id, { response, messages });
    }
    return response;
  }

  /** a tool call as its output item: custom tools' calls carry their raw input */
  callItem(part: { id: string; name: string; arguments: string }, status: string): Item {
    const namespace = this.ctx.namespaces.get(part.name);
    if (this.ctx.custom.has(part.name)) return { id: this.itemId('ctc'), type: 'custom_tool_call', status, call_id: part.id, name: part.name, input: customInput(part.arguments), ...(namespace ? { namespace } : {}) };
    return { id: this.itemId('fc'), type: 'function_call', status, call_id: part.id, name: part.name, arguments: part.arguments || '{}', ...(namespace ? { namespace } : {}) };
  }

  reasoningItem(id: string, text: string, signature: string | undefined): Item {
    return {
      id,
      type: 'reasoning',
      summary: this.ctx.summaries && text ? [{ type: 'summary_text', text }] : [],
      ...(this.ctx.encrypted && signature ? { encrypted_content: signature } : {}),
    };
  }
}

function customInput(args: string): string {
  try {
    const v = JSON.parse(args || '{}') as unknown;
    if (v && typeof v === 'object' && typeof (v as { input?: unknown }).input === 'string') return (v as { input: string }).input;
  } catch {
    // not JSON: the model wrote the raw input
  }
  return args;
}

function messageItem(id: string, text: string, status: string): Item {
  return { id, type: 'message', status, role: 'assistant', content: [{ type: 'output_text', text, annotations: [], logprobs: [] }] };
}

export class ResponsesStreamEncoder implements StreamEncoder {
  readonly contentType = SSE_CONTENT_TYPE;
  private seq = 0;
  private readonly output: Item[] = [];
  private readonly answer: ContentPart[] = [];
  private open_: { kind: 'message' | 'reasoning'; id: string; index: number; text: string; signature?: string } | undefined;
  private readonly tail = new StreamEnd();

  constructor(private readonly b: ResponseBuilder) {}

  private event(type: string, fields: Record<string, unknown>): string {
    return sseFrame({ type, sequence_number: this.seq++, ...fields }, type);
  }

  open(): string[] {
    const response = this.b.response('in_progress', []);
    return [this.event('response.created', { response }), this.event('response.in_progress', { response })];
  }

  keepalive(): string {
    return SSE_KEEPALIVE;
  }

  private close(): string[] {
    const o = this.open_;
    if (!o) return [];
    this.open_ = undefined;
    const frames: string[] = [];
    const at = { item_id: o.id, output_index: o.index };
    let item: Item;
    if (o.kind === 'message') {
      const part = { type: 'output_text', text: o.text, annotations: [], logprobs: [] };
      frames.push(this.event('response.output_text.done', { ...at, content_index: 0, text: o.text, logprobs: [] }));
      frames.push(this.event('response.content_part.done', { ...at, content_index: 0, part }));
      item = messageItem(o.id, o.text, 'completed');
      this.answer.push({ type: 'text', text: o.text });
    } else {
      item = this.b.reasoningItem(o.id, o.text, o.signature);
      if ((item.summary as unknown[]).length) {
        frames.push(this.event('response.reasoning_summary_text.done', { ...at, summary_index: 0, text: o.text }));
        frames.push(this.event('response.reasoning_summary_part.done', { ...at, summary_index: 0, part: { type: 'summary_text', text: o.text } }));
      }
      this.answer.push({ type: 'reasoning', text: o.text, ...(o.signature ? { signature: o.signature } : {}) });
    }
    this.output[o.index] = item;
    frames.push(this.event('response.output_item.done', { output_index: o.index, item }));
    return frames;
  }

  private begin(kind: 'message' | 'reasoning'): string[] {
    const frames = this.close();
    const id = this.b.itemId(kind === 'message' ? 'msg' : 'rs');
    const index = this.output.length;
    this.open_ = { kind, id, index, text: '' };
    const item = kind === 'message' ? { id, type: 'message', status: 'in_progress', role: 'assistant', content: [] } : { id, type: 'reasoning', summary: [] };
    this.output.push(item);
    frames.push(this.event('response.output_item.added', { output_index: index, item }));
    if (kind === 'message') frames.push(this.event('response.content_part.added', { item_id: id, output_index: index, content_index: 0, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } }));
    return frames;
  }

  part(part: StreamPart): string[] {
    if (this.tail.record(part)) return [];
    switch (part.type) {
      case 'text-delta': {
        const frames = this.open_?.kind === 'message' ? [] : this.begin('message');
        const o = this.open_!;
        o.text += part.text;
        frames.push(this.event('response.output_text.delta', { item_id: o.id, output_index: o.index, content_index: 0, delta: part.text, logprobs: [] }));
        return frames;
      }
      case 'reasoning-delta': {
        const frames = this.open_?.kind === 'reasoning' ? [] : this.begin('reasoning');
        const o = this.open_!;
        if (part.signature) o.signature = part.signature;
        if (!part.text) return frames;
        const first = o.text === '';
        o.text += part.text;
        if (this.b.summaries) {
          const at = { item_id: o.id, output_index: o.index, summary_index: 0 };
          if (first) frames.push(this.event('response.reasoning_summary_part.added', { ...at, part: { type: 'summary_text', text: '' } }));
          frames.push(this.event('response.reasoning_summary_text.delta', { ...at, delta: part.text }));
        }
        return frames;
      }
      case 'tool-call': {
        const frames = this.close();
        const index = this.output.length;
        const done = this.b.callItem(part, 'completed');
        const custom = done.type === 'custom_tool_call';
        this.output.push(done);
        this.answer.push({ type: 'tool-call', id: part.id, name: part.name, arguments: part.arguments });
        const added = custom ? { ...done, status: 'in_progress', input: '' } : { ...done, status: 'in_progress', arguments: '' };
        const at = { item_id: done.id, output_index: index };
        frames.push(this.event('response.output_item.added', { output_index: index, item: added }));
        if (custom) {
          frames.push(this.event('response.custom_tool_call_input.delta', { ...at, delta: done.input }));
          frames.push(this.event('response.custom_tool_call_input.done', { ...at, input: done.input }));
        } else {
          frames.push(this.event('response.function_call_arguments.delta', { ...at, delta: done.arguments }));
          frames.push(this.event('response.function_call_arguments.done', { ...at, name: part.name, arguments: done.arguments }));
        }
        frames.push(this.event('response.output_item.done', { output_index: index, item: done }));
        return frames;
      }
      default:
        return [];
    }
  }

  async end(): Promise<string[]> {
    const frames = this.close();
    const response = await this.b.finish(this.output, this.answer, this.tail.usage, this.tail.finish);
    frames.push(this.event(response.status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response }));
    return frames;
  }

  error(err: CligateError): string[] {
    const frames = this.close();
    frames.push(this.event('response.failed', { response: this.b.response('failed', this.output, { error: err }) }));
    return frames;
  }
}

/** the whole answer as one response object (stored like a streamed one) */
export async function encodeResponse(b: ResponseBuilder, r: CollectedResponse): Promise<Record<string, unknown>> {
  const output: Item[] = [];
  const answer: ContentPart[] = [];
  if (r.reasoning || r.reasoningSignature) {
    output.push(b.reasoningItem(b.itemId('rs'), r.reasoning, r.reasoningSignature));
    answer.push({ type: 'reasoning', text: r.reasoning, ...(r.reasoningSignature ? { signature: r.reasoningSignature } : {}) });
  }
  if (r.text) {
    output.push(messageItem(b.itemId('msg'), r.text, 'completed'));
    answer.push({ type: 'text', text: r.text });
  }
  for (const c of r.toolCalls) {
    output.push(b.callItem(c, 'completed'));
    answer.push({ type: 'tool-call', ...c });
  }
  return b.finish(output, answer, r.usage, r.finishReason);
}
