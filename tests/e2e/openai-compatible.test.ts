/**
 * The generic OpenAI-compatible provider against the fake OpenAI server: every dialect in,
 * streamed chunks out as they arrive, reasoning, native tool calls and their results,
 * images, usage with cached tokens, upstream errors in the client's dialect.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import sharp from 'sharp';
import { startStack, type TestStack } from '../helpers/server.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai.js';

let upstream: FakeOpenAI;
let stack: TestStack;
const MODEL = 'local-llama';

beforeAll(async () => {
  upstream = await startFakeOpenAI();
  stack = await startStack({ OPENAI_COMPATIBLE_BASE_URL: `${upstream.url}/v1`, OPENAI_COMPATIBLE_API_KEY: 'sk-upstream-key', OPENAI_COMPATIBLE_MODELS: `${MODEL},other-model` });
});
afterAll(async () => {
  await stack?.close();
  await upstream?.close();
});
beforeEach(() => upstream.setScript({}));

const openai = () => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'x', maxRetries: 0 });
const last = () => upstream.requests.at(-1)!;

describe('openai-compatible provider', () => {
  it('answers non-stream with usage (cached tokens kept); the upstream gets a non-stream request with the key', async () => {
    upstream.setScript({ reply: 'hello from upstream', usage: { prompt_tokens: 40, completion_tokens: 3, cached_tokens: 10 } });
    const r = await openai().chat.completions.create({ model: MODEL, messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hi' }], temperature: 0.2, max_tokens: 50 });
    expect(r.choices[0]!.message.content).toBe('hello from upstream');
    expect(r.usage).toMatchObject({ prompt_tokens: 40, completion_tokens: 3 });
    expect(r.usage?.prompt_tokens_details?.cached_tokens).toBe(10);
    expect(last().headers.authorization).toBe('Bearer sk-upstream-key');
    expect(last().body.stream_options).toBeUndefined();
    expect(last().body).toMatchObject({ model: MODEL, stream: false, temperature: 0.2, max_tokens: 50, messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hi' }] });
  });

  it('streams each upstream chunk to the client as it arrives (lockstep: the upstream sends the next only once the client has the last)', async () => {
    // if anything on the way held chunks back, the client would never see one and this would deadlock
    let release: () => void = () => {};
    let seen = 0;
    upstream.setScript({ reply: 'one two three four five', gate: () => new Promise<void>((r) => (release = r)) });
    const stream = await openai().chat.completions.create({ model: `openai-compatible/${MODEL}`, stream: true, messages: [{ role: 'user', content: 'count' }] });
    let text = '';
    for await (const c of stream) {
      const d = c.choices[0]?.delta?.content;
      if (d) {
        seen++;
        text += d;
        release();
      }
    }
    expect(text).toBe('one two three four five');
    expect(seen).toBe(5);
    expect(last().body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('native tool calls stream back whole; tool results go up as tool messages', async () => {
    upstream.setScript({ reply: '', toolCalls: [{ name: 'get_weather', arguments: '{"city":"Paris","unit":"C"}' }] });
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', description: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const r = await openai().chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'weather?' }], tools, tool_choice: 'auto' });
    expect(r.choices[0]!.finish_reason).toBe('tool_calls');
    expect(r.choices[0]!.message.tool_calls![0]).toMatchObject({ type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","unit":"C"}' } });
    expect(last().body.tools[0]).toMatchObject({ type: 'function', function: { name: 'get_weather' } });
    expect(last().body.tool_choice).toBe('auto');
    // streamed: the upstream's argument pieces are gathered and the call sent whole
    const streamed = await openai().chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'weather?' }], tools, stream: true });
    let name = '';
    let args = '';
    let finish: string | null | undefined;
    for await (const c of streamed) {
      for (const t of c.choices[0]?.delta?.tool_calls ?? []) {
        name += t.function?.name ?? '';
        args += t.function?.arguments ?? '';
      }
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    expect(last().body.stream).toBe(true);
    expect(name).toBe('get_weather');
    expect(JSON.parse(args)).toEqual({ city: 'Paris', unit: 'C' });
    expect(finish).toBe('tool_calls');

    upstream.setScript({ reply: 'It is sunny.' });
    const call = r.choices[0]!.message.tool_calls![0]!;
    const r2 = await openai().chat.completions.create({
      model: MODEL,
      tools,
      messages: [{ role: 'user', content: 'weather?' }, { role: 'assistant', content: null, tool_calls: [call] }, { role: 'tool', tool_call_id: call.id, content: '22 C, sun' }],
    });
    expect(r2.choices[0]!.message.content).toBe('It is sunny.');
    expect(last().body.messages.slice(1)).toEqual([
      { role: 'assistant', content: null, tool_calls: [{ id: call.id, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","unit":"C"}' } }] },
      { role: 'tool', tool_call_id: call.id, content: '22 C, sun' },
    ]);
  });

  it('Anthropic and Gemini clients reach it too: reasoning as thinking, tool_use blocks, functionCall parts', async () => {
    upstream.setScript({ reply: 'done', reasoning: 'let me think' });
    const msg = await new Anthropic({ baseURL: stack.url, apiKey: 'x', maxRetries: 0 }).messages.create({ model: MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'go' }] });
    expect(msg.content.map((b) => b.type)).toEqual(['thinking', 'text']);
    upstream.setScript({ reply: '', toolCalls: [{ name: 'lookup', arguments: '{"q":"x"}' }] });
    const g = await new GoogleGenAI({ apiKey: 'x', httpOptions: { baseUrl: stack.url } }).models.generateContent({
      model: MODEL,
      contents: 'find x',
      config: { tools: [{ functionDeclarations: [{ name: 'lookup', parameters: { type: 'object' as never, properties: { q: { type: 'string' as never } } } }] }] },
    });
    expect(g.functionCalls?.[0]).toMatchObject({ name: 'lookup', args: { q: 'x' } });
  });

  it('images go up as image_url data URLs', async () => {
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#00f' } }).png().toBuffer();
    await openai().chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${png.toString('base64')}` } }] }] });
    const content = last().body.messages[0].content;
    expect(content[0]).toEqual({ type: 'text', text: expect.stringContaining('what is this') });
    expect(content.find((p: any) => p.type === 'image_url').image_url.url).toMatch(/^data:image\/png;base64,/);
  });

  it('upstream errors keep their meaning in the client dialect', async () => {
    upstream.setScript({ status: 429 });
    await expect(openai().chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ status: 429 });
    upstream.setScript({ status: 401 });
    await expect(openai().chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ status: 401 });
    upstream.setScript({ status: 500 });
    await expect(new Anthropic({ baseURL: stack.url, apiKey: 'x', maxRetries: 0 }).messages.create({ model: MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ status: 502 });
  });

  it('lists its models bare and qualified', async () => {
    const ids = (await openai().models.list()).data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining([MODEL, `openai-compatible/${MODEL}`, 'other-model']));
  });
});
