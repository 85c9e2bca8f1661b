/** The official @anthropic-ai/sdk against cligate's /v1/messages, the real claude CLI behind it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Anthropic from '@anthropic-ai/sdk';
import { startStack, type TestStack } from '../helpers/server.js';

let stack: TestStack;
let client: Anthropic;

beforeAll(async () => {
  stack = await startStack({ API_KEY: 'sk-anthropic-test' });
  client = new Anthropic({ baseURL: stack.url, apiKey: 'sk-anthropic-test', maxRetries: 0 });
});
afterAll(async () => stack?.close());

const lastUpstream = () => stack.fake.requests.filter((q) => q.path === '/v1/messages').at(-1)?.body;

describe('Anthropic SDK end to end', () => {
  it('messages.create: text block, end_turn, usage with cache fields', async () => {
    stack.fake.setScript({ reply: 'Bonjour', usage: { input_tokens: 40, output_tokens: 2, cache_read_input_tokens: 100 } });
    const msg = await client.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 256,
      system: [{ type: 'text', text: 'Answer in French.' }],
      messages: [{ role: 'user', content: 'Say hello' }],
    });
    expect(msg.type).toBe('message');
    expect(msg.role).toBe('assistant');
    expect(msg.id).toMatch(/^msg_/);
    expect(msg.content).toEqual([{ type: 'text', text: 'Bonjour' }]);
    expect(msg.stop_reason).toBe('end_turn');
    expect(msg.usage.output_tokens).toBe(2);
    expect(msg.usage.cache_read_input_tokens).toBe(100);
    expect(msg.usage.input_tokens).toBe(40);
    expect(JSON.stringify(lastUpstream().system)).toContain('Answer in French.');
  });

  it('messages.stream: the exact event order and the final message', async () => {
    stack.fake.setScript({ reply: 'alpha beta gamma', usage: { input_tokens: 12, output_tokens: 3 } });
    const stream = client.messages.stream({
      model: 'claude-haiku-4-5',
      max_tokens: 256,
      messages: [{ role: 'user', content: 'three words' }],
    });
    const events: string[] = [];
    let startInput = -1;
    for await (const ev of stream) {
      events.push(ev.type === 'content_block_delta' ? `delta:${ev.delta.type}` : ev.type);
      if (ev.type === 'message_start') startInput = ev.message.usage.input_tokens;
    }
    const final = await stream.finalMessage();
    const deltas = events.filter((e) => e.startsWith('delta:'));
    expect(events[0]).toBe('message_start');
    expect(events[1]).toBe('content_block_start');
    expect(events.slice(2, 2 + deltas.length).every((e) => e === 'delta:text_delta')).toBe(true);
    expect(events.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    expect(startInput).toBeGreaterThan(0); // an estimate, never 0
    expect(final.content).toEqual([{ type: 'text', text: 'alpha beta gamma' }]);
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage.output_tokens).toBe(3);
  });

  it('sends ping right after the first content_block_start (raw SSE)', async () => {
    stack.fake.setScript({ reply: 'x y' });
    const res = await fetch(`${stack.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'sk-anthropic-test', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const names = (await res.text()).split('\n').filter((l) => l.startsWith('event: ')).map((l) => l.slice(7));
    expect(names.slice(0, 3)).toEqual(['message_start', 'content_block_start', 'ping']);
    expect(names.at(-1)).toBe('message_stop');
  });

  it('countTokens returns a real, non-zero estimate that grows with the input', async () => {
    const small = await client.messages.countTokens({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] });
    const big = await client.messages.countTokens({
      model: 'claude-sonnet-4-5',
      system: 'You are a helpful assistant.',
      messages: [{ role: 'user', content: 'The quick brown fox jumps over the lazy dog. '.repeat(50) }],
      tools: [{ name: 'get_weather', description: 'Weather for a city', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
    });
    expect(small.input_tokens).toBeGreaterThan(0);
    expect(big.input_tokens).toBeGreaterThan(450); // 50 × ~10 tokens, plus system and tool
    expect(big.input_tokens).toBeLessThan(800);
  });

  it('countTokens of a pasted file with long runs (padding, a rule line, minified letters) answers, and /health answers meanwhile', async () => {
    // each of these took the tokenizer 13 s to 3 min of the event loop before long runs were estimated
    const pasted = `header\n${' '.repeat(40_000)}|\n${'='.repeat(40_000)}\n${'x'.repeat(40_000)}\nend`;
    const counting = client.messages.countTokens({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: pasted }] });
    const health = await fetch(`${stack.url}/health`);
    expect(health.status).toBe(200);
    const counted = await counting;
    // 120k characters in runs at about 4 a token, plus the words around them
    expect(counted.input_tokens).toBeGreaterThan(29_000);
    expect(counted.input_tokens).toBeLessThan(31_000);
  }, 30_000);

  it('multi-turn with tool_use / tool_result history reaches the CLI in order', async () => {
    stack.fake.setScript({ reply: 'It is sunny.' });
    const msg = await client.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 100,
      messages: [
        { role: 'user', content: 'Weather in Oslo?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Oslo' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny, 21C' }] },
      ],
    });
    expect(msg.content).toEqual([{ type: 'text', text: 'It is sunny.' }]);
    const prompt = JSON.stringify(lastUpstream().messages);
    expect(prompt.indexOf('Weather in Oslo?')).toBeLessThan(prompt.indexOf('get_weather'));
    expect(prompt.indexOf('get_weather')).toBeLessThan(prompt.indexOf('sunny, 21C'));
  });

  it('bad input: Anthropic error shape and status', async () => {
    const err = await client.messages
      // @ts-expect-error max_tokens is required by the API, left out on purpose
      .create({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    const body = (err as InstanceType<typeof Anthropic.APIError>).error as { type: string; error: { type: string; message: string } };
    expect(body.type).toBe('error');
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toMatch(/max_tokens/);
  });

  it('unknown model: 404 not_found_error', async () => {
    const err = await client.messages
      .create({ model: 'nonexistent-model', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.NotFoundError);
  });

  it('wrong key: 401 authentication_error; Bearer works as well as x-api-key', async () => {
    const bad = new Anthropic({ baseURL: stack.url, apiKey: 'nope', maxRetries: 0 });
    const err = await bad.messages.countTokens({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    const bearer = await fetch(`${stack.url}/v1/messages/count_tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-anthropic-test' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(bearer.status).toBe(200);
  });

  it('upstream rate limit during a stream: 429 rate_limit_error', async () => {
    stack.fake.setScript({ status: 429 });
    const err = await client.messages
      .create({ model: 'claude-sonnet-4-5', max_tokens: 5, stream: true, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    stack.fake.setScript({});
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
  });

  it('models.list works with the Anthropic SDK', async () => {
    const page = await client.models.list();
    expect(page.data.map((m) => m.id)).toContain('claude-sonnet-4-6');
  });
});
