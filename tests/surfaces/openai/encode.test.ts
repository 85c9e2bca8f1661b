/** OpenAI encoders: the SSE chunk stream and the non-streamed chat.completion, in OpenAI's exact shapes. */
import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../../src/core/request.js';
import type { CollectedResponse, StreamPart } from '../../../src/core/stream.js';
import { RateLimited, UpstreamError } from '../../../src/core/errors.js';
import { OpenAIStreamEncoder, encodeChatCompletion } from '../../../src/surfaces/openai/encode.js';

type Chunk = {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: { index: number; delta: Record<string, unknown>; finish_reason: string | null }[];
  usage?: unknown;
  error?: unknown;
};

const request = (extra: Partial<ChatRequest> = {}): ChatRequest => ({
  model: 'claude-sonnet',
  messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
  stream: true,
  ...extra,
});

/** the raw SSE text, split into data payloads; every event must be a single `data:` line */
function frames(text: string): string[] {
  expect(text.endsWith('\n\n')).toBe(true);
  return text
    .split('\n\n')
    .filter((e) => e.length > 0)
    .map((e) => {
      expect(e.startsWith('data: '), e).toBe(true);
      expect(e.includes('\n'), e).toBe(false);
      return e.slice('data: '.length);
    });
}

function encode(parts: StreamPart[], req = request(), id = 'req123'): { raw: string; payloads: string[]; chunks: Chunk[] } {
  const enc = new OpenAIStreamEncoder(req, id);
  const raw = [...enc.open(), ...parts.flatMap((p) => enc.part(p)), ...enc.end()].join('');
  const payloads = frames(raw);
  expect(payloads.at(-1)).toBe('[DONE]');
  const chunks = payloads.slice(0, -1).map((p) => JSON.parse(p) as Chunk);
  return { raw, payloads, chunks };
}

const withChoice = (chunks: Chunk[]) => chunks.filter((c) => c.choices.length > 0);

const textParts: StreamPart[] = [
  { type: 'text-delta', text: 'Hel' },
  { type: 'text-delta', text: 'lo, ' },
  { type: 'keepalive' },
  { type: 'text-delta', text: 'world' },
  { type: 'usage', usage: { inputTokens: 12, outputTokens: 3, cacheReadTokens: 8 } },
  { type: 'finish', reason: 'stop' },
];

describe('OpenAIStreamEncoder', () => {
  it('the first chunk carries delta.role "assistant"', () => {
    const { chunks } = encode(textParts);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    for (const c of chunks.slice(1)) expect(c.choices[0]?.delta.role).toBeUndefined();
  });

  it('every chunk has the same id, object "chat.completion.chunk", created and the requested model', () => {
    const { chunks } = encode(textParts, request({ includeUsage: true }), 'abc');
    expect(chunks.length).toBeGreaterThan(3);
    const created = chunks[0]!.created;
    expect(Number.isInteger(created)).toBe(true);
    expect(Math.abs(created - Date.now() / 1000)).toBeLessThan(3600);
    for (const c of chunks) {
      expect(c.id).toBe('chatcmpl-abc');
      expect(c.object).toBe('chat.completion.chunk');
      expect(c.created).toBe(created);
      expect(c.model).toBe('claude-sonnet');
    }
    for (const c of withChoice(chunks)) {
      expect(c.choices).toHaveLength(1);
      expect(c.choices[0]!.index).toBe(0);
    }
  });

  it('text deltas arrive in order and add up to the text', () => {
    const { chunks } = encode(textParts);
    const contents = chunks.map((c) => c.choices[0]?.delta.content).filter((t): t is string => typeof t === 'string' && t !== '');
    expect(contents).toEqual(['Hel', 'lo, ', 'world']);
  });

  it('only the final choice chunk has a finish_reason, "stop"', () => {
    const { chunks } = encode(textParts);
    const reasons = withChoice(chunks).map((c) => c.choices[0]!.finish_reason);
    expect(reasons.at(-1)).toBe('stop');
    expect(reasons.slice(0, -1).every((r) => r === null)).toBe(true);
    expect(withChoice(chunks).at(-1)!.choices[0]!.delta).toEqual({});
  });

  it('finish reasons map to OpenAI names', () => {
    const last = (reason: 'length' | 'content-filter' | 'tool-calls') =>
      withChoice(encode([{ type: 'text-delta', text: 'x' }, { type: 'finish', reason }]).chunks).at(-1)!.choices[0]!.finish_reason;
    expect(last('length')).toBe('length');
    expect(last('content-filter')).toBe('content_filter');
    expect(last('tool-calls')).toBe('tool_calls');
  });

  it('tool calls stream as indexed tool_calls deltas and finish with "tool_calls"', () => {
    const { chunks } = encode([
      { type: 'text-delta', text: 'Let me look.' },
      { type: 'tool-call', id: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo"}' },
      { type: 'tool-call', id: 'call_2', name: 'get_time', arguments: '{}' },
      { type: 'finish', reason: 'tool-calls' },
    ]);
    const calls = chunks.flatMap((c) => (c.choices[0]?.delta.tool_calls as unknown[] | undefined) ?? []);
    expect(calls).toEqual([
      { index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
      { index: 1, id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
    ]);
    expect(withChoice(chunks).at(-1)!.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it('a stream that starts with a tool call still opens with role "assistant"', () => {
    const { chunks } = encode([
      { type: 'tool-call', id: 'call_1', name: 'f', arguments: '{}' },
      { type: 'finish', reason: 'tool-calls' },
    ]);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(chunks[0]!.choices[0]!.delta.tool_calls).toBeDefined();
  });

  it('reasoning streams as reasoning_content deltas', () => {
    const { chunks } = encode([
      { type: 'reasoning-delta', text: 'hmm' },
      { type: 'text-delta', text: 'answer' },
      { type: 'finish', reason: 'stop' },
    ]);
    const deltas = chunks.map((c) => c.choices[0]?.delta).filter(Boolean);
    expect(deltas.some((d) => d!.reasoning_content === 'hmm')).toBe(true);
    const iReason = deltas.findIndex((d) => d!.reasoning_content === 'hmm');
    const iText = deltas.findIndex((d) => d!.content === 'answer');
    expect(iReason).toBeLessThan(iText);
  });

  it('with includeUsage every chunk has usage null except a final choices:[] chunk with the usage', () => {
    const { chunks } = encode(textParts, request({ includeUsage: true }));
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({
      prompt_tokens: 12,
      completion_tokens: 3,
      total_tokens: 15,
      prompt_tokens_details: { cached_tokens: 8 },
    });
    for (const c of chunks.slice(0, -1)) {
      expect(c).toHaveProperty('usage');
      expect(c.usage).toBeNull();
      expect(c.choices).toHaveLength(1);
    }
    // the usage chunk comes after the finish chunk
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('stop');
  });

  it('with includeUsage but no usage part, the usage chunk reports zeros', () => {
    const { chunks } = encode([{ type: 'text-delta', text: 'x' }], request({ includeUsage: true }));
    expect(chunks.at(-1)!.usage).toMatchObject({
      prompt_tokens: 0,
      completion_tokens: 0,
      total_tokens: 0,
      prompt_tokens_details: { cached_tokens: 0 },
    });
  });

  it('without includeUsage no chunk has a usage key at all, even when usage is known', () => {
    const { chunks } = encode(textParts, request({ includeUsage: false }));
    for (const c of chunks) {
      expect(Object.keys(c)).not.toContain('usage');
      expect(c.choices).toHaveLength(1);
    }
    const { chunks: unset } = encode(textParts, request());
    for (const c of unset) expect(Object.keys(c)).not.toContain('usage');
  });

  it('the last frame is data: [DONE]', () => {
    const { raw, payloads } = encode(textParts, request({ includeUsage: true }));
    expect(raw.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(payloads.filter((p) => p === '[DONE]')).toHaveLength(1);
  });

  it('an empty stream still sends the role chunk, a finish chunk and [DONE]', () => {
    const { payloads, chunks } = encode([]);
    expect(payloads).toHaveLength(3);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(chunks[0]!.choices[0]!.finish_reason).toBeNull();
    expect(chunks[1]!.choices[0]!.finish_reason).toBe('stop');
  });

  it('an empty stream with includeUsage also sends the usage chunk', () => {
    const { chunks } = encode([{ type: 'finish', reason: 'stop' }], request({ includeUsage: true }));
    expect(chunks).toHaveLength(3);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(chunks[1]!.choices[0]!.finish_reason).toBe('stop');
    expect(chunks[2]!.choices).toEqual([]);
  });

  it('open() writes nothing and keepalive is an SSE comment', () => {
    const enc = new OpenAIStreamEncoder(request(), 'x');
    expect(enc.open()).toEqual([]);
    expect(enc.keepalive().startsWith(':')).toBe(true);
    expect(enc.keepalive().endsWith('\n\n')).toBe(true);
    expect(enc.contentType).toMatch(/^text\/event-stream/);
  });

  it('error() sends {error:{message,type,code}} and then [DONE]', () => {
    const enc = new OpenAIStreamEncoder(request(), 'x');
    enc.part({ type: 'text-delta', text: 'partial' });
    const payloads = frames(enc.error(new UpstreamError('the CLI crashed')).join(''));
    expect(payloads).toHaveLength(2);
    expect(payloads[1]).toBe('[DONE]');
    const body = JSON.parse(payloads[0]!) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({ message: 'the CLI crashed', type: 'api_error', code: 'upstream_error' });
  });

  it('a rate-limit error in a stream says so and carries the retry hint', () => {
    const enc = new OpenAIStreamEncoder(request(), 'x');
    const payloads = frames(enc.error(new RateLimited('slow down', { retryAfter: 30 })).join(''));
    const body = JSON.parse(payloads[0]!) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({ message: 'slow down', type: 'rate_limit_exceeded', code: 'rate_limit_exceeded' });
    expect(payloads[1]).toBe('[DONE]');
  });
});

describe('encodeChatCompletion', () => {
  const collected = (extra: Partial<CollectedResponse> = {}): CollectedResponse => ({
    text: 'Hello, world',
    reasoning: '',
    toolCalls: [],
    finishReason: 'stop',
    usage: { inputTokens: 10, outputTokens: 4, cacheReadTokens: 6 },
    ...extra,
  });

  it('has the chat.completion shape', () => {
    const body = encodeChatCompletion(request({ stream: false }), 'r1', collected());
    expect(body).toMatchObject({
      id: 'chatcmpl-r1',
      object: 'chat.completion',
      model: 'claude-sonnet',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello, world' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 10, completion_tokens: 4, total_tokens: 14, prompt_tokens_details: { cached_tokens: 6 } },
    });
    expect(Number.isInteger(body.created)).toBe(true);
    expect(body.choices).toHaveLength(1);
    expect(body.choices[0]!.message).not.toHaveProperty('tool_calls');
  });

  it('without usage reports zeros', () => {
    const { usage } = encodeChatCompletion(request(), 'r', collected({ usage: undefined }));
    expect(usage).toMatchObject({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
  });

  it('an empty answer has content "" (not null)', () => {
    const body = encodeChatCompletion(request(), 'r', collected({ text: '' }));
    expect(body.choices[0]!.message.content).toBe('');
  });

  it('tool calls: content null, tool_calls in OpenAI form, finish_reason "tool_calls"', () => {
    const body = encodeChatCompletion(
      request(),
      'r',
      collected({
        text: '',
        toolCalls: [
          { id: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo"}' },
          { id: 'call_2', name: 'get_time', arguments: '{}' },
        ],
        finishReason: 'tool-calls',
      }),
    );
    const choice = body.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toEqual([
      { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
      { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
    ]);
  });

  it('text alongside tool calls is kept as content', () => {
    const body = encodeChatCompletion(
      request(),
      'r',
      collected({ text: 'Checking.', toolCalls: [{ id: 'c', name: 'f', arguments: '{}' }], finishReason: 'tool-calls' }),
    );
    expect(body.choices[0]!.message.content).toBe('Checking.');
  });

  it('reasoning is returned as reasoning_content; length maps to "length"', () => {
    const body = encodeChatCompletion(request(), 'r', collected({ reasoning: 'thought', finishReason: 'length' }));
    expect(body.choices[0]!.message.reasoning_content).toBe('thought');
    expect(body.choices[0]!.finish_reason).toBe('length');
  });
});
