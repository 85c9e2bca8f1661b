/**
 * The official openai SDK against the running server, the real claude CLI behind
 * it, and a fake Anthropic upstream behind that.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { startStack, type TestStack } from '../helpers/server.js';

let stack: TestStack;
let client: OpenAI;

beforeAll(async () => {
  stack = await startStack({ API_KEY: 'sk-test-key' });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'sk-test-key', maxRetries: 0 });
});
afterAll(async () => stack?.close());

function lastUserText(body: { messages: { role: string; content: string | { type: string; text?: string }[] }[] }): string {
  const user = [...body.messages].reverse().find((m) => m.role === 'user');
  if (!user) return '';
  if (typeof user.content === 'string') return user.content;
  return user.content
    .filter((p) => p.type === 'text' && !p.text?.startsWith('<system-reminder>'))
    .map((p) => p.text)
    .join('');
}

describe('OpenAI SDK end to end over the real claude CLI', () => {
  it('non-stream: answers with the upstream text and the real usage', async () => {
    stack.fake.setScript({ reply: 'Hello from the fake upstream', usage: { input_tokens: 21, output_tokens: 5 } });
    const r = await client.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'Say hello' }],
    });
    expect(r.object).toBe('chat.completion');
    expect(r.model).toBe('claude-sonnet-4-5');
    expect(r.id).toMatch(/^chatcmpl-/);
    expect(r.choices[0]?.message.role).toBe('assistant');
    expect(r.choices[0]?.message.content).toBe('Hello from the fake upstream');
    expect(r.choices[0]?.finish_reason).toBe('stop');
    expect(r.usage?.prompt_tokens).toBeGreaterThanOrEqual(21);
    expect(r.usage?.completion_tokens).toBe(5);
    expect(r.usage?.total_tokens).toBe((r.usage?.prompt_tokens ?? 0) + 5);
    // the CLI really asked the fake with the requested model
    const sent = stack.fake.requests.filter((q) => q.path.startsWith('/v1/messages') && !q.path.includes('count_tokens'));
    expect(sent.at(-1)?.body.model).toBe('claude-sonnet-4-5');
  });

  it('stream with include_usage: role first, text deltas, finish, final usage chunk, [DONE]', async () => {
    stack.fake.setScript({ reply: 'one two three four five', chunks: 5, usage: { input_tokens: 30, output_tokens: 5 } });
    const stream = await client.chat.completions.create({
      model: 'claude-haiku-4-5',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'Count to five' }],
    });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('one two three four five');
    const finish = chunks.find((c) => c.choices[0]?.finish_reason);
    expect(finish?.choices[0]?.finish_reason).toBe('stop');
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage?.completion_tokens).toBe(5);
    expect(last.usage?.prompt_tokens).toBeGreaterThanOrEqual(30);
    for (const c of chunks.slice(0, -1)) expect(c.usage).toBeNull();
    for (const c of chunks) expect(c.object).toBe('chat.completion.chunk');
  });

  it('stream without include_usage has no usage chunk', async () => {
    stack.fake.setScript({ reply: 'plain' });
    const stream = await client.chat.completions.create({
      model: 'claude-sonnet-4-5',
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.every((c) => c.choices.length === 1)).toBe(true);
    expect(chunks.every((c) => !('usage' in c) || c.usage === undefined)).toBe(true);
  });

  it('system prompt reaches the upstream as the system prompt', async () => {
    stack.fake.setScript({ reply: 'ok' });
    await client.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: [
        { role: 'system', content: 'You are a pirate named Zanzibar.' },
        { role: 'user', content: 'Who are you?' },
      ],
    });
    const body = stack.fake.requests.filter((q) => q.path.startsWith('/v1/messages') && !q.path.includes('count_tokens')).at(-1)?.body;
    expect(JSON.stringify(body.system)).toContain('You are a pirate named Zanzibar.');
  });

  it('multi-turn history reaches the CLI in order', async () => {
    stack.fake.setScript({ reply: (userText: string) => `seen: ${userText}` });
    const r = await client.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: [
        { role: 'user', content: 'My favourite colour is ultramarine.' },
        { role: 'assistant', content: 'Noted: ultramarine.' },
        { role: 'user', content: 'What is my favourite colour?' },
      ],
    });
    const body = stack.fake.requests.filter((q) => q.path.startsWith('/v1/messages') && !q.path.includes('count_tokens')).at(-1)?.body;
    const prompt = lastUserText(body);
    const a = prompt.indexOf('My favourite colour is ultramarine.');
    const b = prompt.indexOf('Noted: ultramarine.');
    const c = prompt.indexOf('What is my favourite colour?');
    expect(a).toBeGreaterThanOrEqual(0);
    expect(b).toBeGreaterThan(a);
    expect(c).toBeGreaterThan(b);
    expect(r.choices[0]?.message.content).toContain('What is my favourite colour?');
  });

  it('rejects a wrong API key with 401 in OpenAI shape', async () => {
    const bad = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'wrong', maxRetries: 0 });
    const err = await bad.models.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(401);
    expect((err as InstanceType<typeof OpenAI.APIError>).code).toBe('invalid_api_key');
  });

  it('lists models', async () => {
    const models = await client.models.list();
    const ids = models.data.map((m) => m.id);
    expect(ids).toContain('claude-sonnet-4-6');
  });

  it('upstream 401 becomes 401 with the CLI message; 429 becomes 429; 500 becomes 502', async () => {
    for (const [upstream, expected] of [
      [401, 401],
      [429, 429],
      [500, 502],
    ] as const) {
      stack.fake.setScript({ status: upstream });
      const err = await client.chat.completions
        .create({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] })
        .catch((e: unknown) => e);
      expect(err, `upstream ${upstream}`).toBeInstanceOf(OpenAI.APIError);
      expect((err as InstanceType<typeof OpenAI.APIError>).status, `upstream ${upstream}`).toBe(expected);
      expect((err as InstanceType<typeof OpenAI.APIError>).message).toMatch(/claude/);
    }
    stack.fake.setScript({});
  });

  it('a stream that fails before any token still gets its real status (429), not a 200 with an error event', async () => {
    stack.fake.setScript({ status: 429 });
    const err = await client.chat.completions
      .create({ model: 'claude-sonnet-4-5', stream: true, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    stack.fake.setScript({});
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect((err as InstanceType<typeof OpenAI.APIError>).headers?.get('retry-after')).toBeTruthy();
  });

  it('a provider-qualified name with a suffix reaches the CLI as the bare model; the reply echoes the requested name', async () => {
    stack.fake.setScript({ reply: 'qualified' });
    const r = await client.chat.completions.create({
      model: 'claude-cli/claude-haiku-4-5-progress',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(r.model).toBe('claude-cli/claude-haiku-4-5-progress');
    expect(r.choices[0]?.message.content).toBe('qualified');
    const sent = stack.fake.requests.filter((q) => q.path === '/v1/messages').at(-1);
    expect(sent?.body.model).toBe('claude-haiku-4-5');
    const ids = (await client.models.list()).data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(['claude-sonnet-4-6', 'claude-cli/claude-sonnet-4-6']));
    const one = await client.models.retrieve('claude-cli/claude-sonnet-4-6');
    expect(one.owned_by).toBe('claude-cli');
  });
});
