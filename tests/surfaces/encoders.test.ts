/**
 * The three encoders on the parts a CLI run cannot produce yet (reasoning with a
 * signature, tool calls), asserted frame by frame in each dialect's wire shape.
 */
import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../src/core/request.js';
import type { StreamPart } from '../../src/core/stream.js';
import { UpstreamError } from '../../src/core/errors.js';
import { AnthropicStreamEncoder, encodeMessage } from '../../src/surfaces/anthropic/encode.js';
import { GeminiStreamEncoder, encodeGenerateContent } from '../../src/surfaces/gemini/encode.js';
import { OpenAIStreamEncoder } from '../../src/surfaces/openai/encode.js';
import type { StreamEncoder } from '../../src/surfaces/types.js';

const req: ChatRequest = { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], stream: true, includeUsage: true };
const parts: StreamPart[] = [
  { type: 'reasoning-delta', text: 'think' },
  { type: 'reasoning-delta', text: '', signature: 'sig-1' },
  { type: 'text-delta', text: 'Calling.' },
  { type: 'tool-call', id: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo"}' },
  { type: 'usage', usage: { inputTokens: 120, outputTokens: 7, cacheReadTokens: 100, cacheCreationTokens: 0 } },
  { type: 'finish', reason: 'tool-calls' },
];

/** the encoders here end synchronously (only a dialect that stores its answers waits) */
function run(enc: StreamEncoder): string {
  const frames = [...enc.open(), ...parts.flatMap((p) => enc.part(p))];
  const end = enc.end();
  if (!Array.isArray(end)) throw new Error('expected a synchronous end()');
  return [...frames, ...end].join('');
}
const sseEvents = (text: string) =>
  text
    .split('\n\n')
    .filter((b) => b.includes('data: '))
    .map((b) => ({ event: /^event: (.*)$/m.exec(b)?.[1], data: b.slice(b.indexOf('data: ') + 6) }));

describe('Anthropic encoder', () => {
  it('thinking (with signature_delta), text and tool_use blocks in order, stop_reason tool_use, usage without cached input', () => {
    const evs = sseEvents(run(new AnthropicStreamEncoder(req, 'abc')));
    const seq = evs.map((e) => {
      const d = JSON.parse(e.data);
      expect(d.type).toBe(e.event);
      return d.type === 'content_block_delta' ? `delta:${d.delta.type}` : d.type === 'content_block_start' ? `start:${d.content_block.type}` : d.type;
    });
    expect(seq).toEqual([
      'message_start',
      'start:thinking',
      'ping',
      'delta:thinking_delta',
      'delta:signature_delta',
      'content_block_stop',
      'start:text',
      'delta:text_delta',
      'content_block_stop',
      'start:tool_use',
      'delta:input_json_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const indices = evs.map((e) => JSON.parse(e.data).index).filter((i) => i !== undefined);
    expect([...new Set(indices)]).toEqual([0, 1, 2]);
    const delta = JSON.parse(evs.find((e) => e.event === 'message_delta')!.data);
    expect(delta.delta.stop_reason).toBe('tool_use');
    expect(delta.usage).toEqual({ input_tokens: 20, output_tokens: 7, cache_read_input_tokens: 100, cache_creation_input_tokens: 0 });
    const tool = JSON.parse(evs.find((e) => e.data.includes('input_json_delta'))!.data);
    expect(tool.delta.partial_json).toBe('{"city":"Oslo"}');
  });

  it('non-stream message with thinking, text and tool_use', () => {
    const m = encodeMessage(req, 'x', { text: 'Calling.', reasoning: 'think', toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo"}' }], finishReason: 'tool-calls' });
    expect(m.content).toEqual([
      { type: 'thinking', thinking: 'think', signature: '' },
      { type: 'text', text: 'Calling.' },
      { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Oslo' } },
    ]);
    expect(m.stop_reason).toBe('tool_use');
    expect(m.usage.input_tokens).toBeGreaterThan(0); // estimated when the provider gave none
  });

  it('an error after the stream opened is an `error` event', () => {
    const [frame] = new AnthropicStreamEncoder(req, 'x').error(new UpstreamError('boom'));
    expect(frame).toBe('event: error\ndata: {"type":"error","error":{"type":"api_error","message":"boom"}}\n\n');
  });
});

describe('Gemini encoder', () => {
  it('SSE: thought part with signature, text, functionCall with parsed args, last chunk STOP + usage', () => {
    const evs = sseEvents(run(new GeminiStreamEncoder(req, 'r1', 'sse'))).map((e) => JSON.parse(e.data));
    const flat = evs.flatMap((e) => e.candidates[0].content.parts);
    expect(flat[0]).toEqual({ text: 'think', thought: true });
    expect(flat[1]).toEqual({ text: '', thought: true, thoughtSignature: 'sig-1' });
    expect(flat[2]).toEqual({ text: 'Calling.' });
    expect(flat[3]).toEqual({ functionCall: { name: 'get_weather', args: { city: 'Oslo' }, id: 'call_1' } });
    const last = evs.at(-1);
    expect(last.candidates[0].finishReason).toBe('STOP');
    expect(last.usageMetadata).toEqual({ promptTokenCount: 120, candidatesTokenCount: 7, totalTokenCount: 127, cachedContentTokenCount: 100 });
  });

  it('array framing is one valid JSON array, also when it fails mid-way', () => {
    const ok = run(new GeminiStreamEncoder(req, 'r1', 'array'));
    expect(JSON.parse(ok)).toHaveLength(5);
    const enc = new GeminiStreamEncoder(req, 'r2', 'array');
    const failed = [...enc.open(), ...enc.part({ type: 'text-delta', text: 'a' }), enc.keepalive(), ...enc.error(new UpstreamError('cut'))].join('');
    const arr = JSON.parse(failed);
    expect(arr[1]).toEqual({ error: { code: 502, message: 'cut', status: 'INTERNAL' } });
  });

  it('non-stream', () => {
    const r = encodeGenerateContent(req, 'x', { text: 'hi', reasoning: '', toolCalls: [], finishReason: 'length', usage: { inputTokens: 3, outputTokens: 1 } });
    expect(r.candidates[0]).toMatchObject({ content: { role: 'model', parts: [{ text: 'hi' }] }, finishReason: 'MAX_TOKENS' });
  });
});

describe('OpenAI encoder', () => {
  it('reasoning_content, content, tool_calls with index, finish tool_calls, usage chunk with cached tokens, [DONE]', () => {
    const text = run(new OpenAIStreamEncoder(req, 'id1'));
    const datas = text.split('\n\n').filter(Boolean).map((f) => f.slice(6));
    expect(datas.at(-1)).toBe('[DONE]');
    const chunks = datas.slice(0, -1).map((d) => JSON.parse(d));
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '', reasoning_content: 'think' });
    const tc = chunks.find((c) => c.choices[0]?.delta.tool_calls);
    expect(tc.choices[0].delta.tool_calls).toEqual([{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }]);
    expect(chunks.find((c) => c.choices[0]?.finish_reason).choices[0].finish_reason).toBe('tool_calls');
    const usage = chunks.at(-1);
    expect(usage.choices).toEqual([]);
    expect(usage.usage).toMatchObject({ prompt_tokens: 120, completion_tokens: 7, total_tokens: 127, prompt_tokens_details: { cached_tokens: 100 } });
  });
});
