/**
 * Cloud Code prompt caching (issue 20): the conversation's session id goes upstream as
 * `request.sessionId`, as Antigravity sends it, so the turns of one conversation on one
 * account read Google's implicit cache. The fake models that cache (per account, model and
 * session id, the prefix shared with the previous request is reported as
 * `cachedContentTokenCount`), so a cached figure in a surface's usage proves the id went up
 * and came back the same. Each surface reports the cached share its own way.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { startStack, type TestStack } from '../helpers/server.js';
import { startFakeCloud, type FakeCloud, cloudcodeEnv } from '../fakes/cloudcode.js';

const RT = '1//rt-cache';
let fake: FakeCloud;
let stack: TestStack;
let dataDir: string;

beforeAll(async () => {
  fake = await startFakeCloud([{ refresh_token: RT, project: 'proj-cache' }]);
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'cligate-cc-cache-'));
  await writeFile(path.join(dataDir, 'accounts.json'), JSON.stringify({ accounts: [{ id: 'cc-1', provider: 'cloudcode', credentials: { refresh_token: RT } }] }));
  stack = await startStack({
    DATA_DIR: dataDir,
    API_KEY: 'sk-cc',
    ...cloudcodeEnv(fake),
  });
});
afterAll(async () => {
  await stack?.close();
  await fake?.close();
  await rm(dataDir, { recursive: true, force: true });
});
beforeEach(() => fake.setScript({}));

const openai = (headers: Record<string, string> = {}) => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'sk-cc', maxRetries: 0, defaultHeaders: headers });
const anthropic = () => new Anthropic({ baseURL: stack.url, apiKey: 'sk-cc', maxRetries: 0 });
const sentSessionIds = () => fake.calls.filter((c) => c.path.endsWith('streamGenerateContent')).map((c) => c.body?.request?.sessionId as string | undefined);
const SYSTEM = 'You are a careful travel planner. Answer in short bullet points and name your sources.';

describe('Cloud Code: the session id goes upstream and repeated turns read the prompt cache', () => {
  it('Anthropic: the second turn of a conversation reports cache_read_input_tokens; both turns sent the same session id', async () => {
    fake.setScript({ reply: 'Lisbon: three days.' });
    const question = 'Plan three days in Lisbon for a first visit, with one day trip.';
    const before = sentSessionIds().length;
    const first = await anthropic().messages.create({ model: 'claude-sonnet-4-5-thinking', max_tokens: 512, system: SYSTEM, messages: [{ role: 'user', content: question }] });
    expect(first.usage.cache_read_input_tokens).toBe(0);

    fake.setScript({ reply: 'Sintra is the day trip.' });
    // the second turn streamed: the cached share arrives in message_delta
    const second = await anthropic()
      .messages.stream({
        model: 'claude-sonnet-4-5-thinking',
        max_tokens: 512,
        system: SYSTEM,
        messages: [
          { role: 'user', content: question },
          { role: 'assistant', content: first.content },
          { role: 'user', content: 'Which day trip?' },
        ],
      })
      .finalMessage();
    expect(second.content[0]).toMatchObject({ type: 'text', text: 'Sintra is the day trip.' });
    const upstream = fake.usage.at(-1)!;
    expect(second.usage.cache_read_input_tokens).toBeGreaterThan(0);
    expect(second.usage.cache_read_input_tokens).toBe(upstream.cachedContentTokenCount);
    // Anthropic counts input without the cached share
    expect(second.usage.input_tokens).toBe(upstream.promptTokenCount - upstream.cachedContentTokenCount);

    const ids = sentSessionIds().slice(before);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(ids[1]).toBe(ids[0]);
  });

  it('OpenAI chat completions: the second turn reports prompt_tokens_details.cached_tokens (streamed with include_usage too)', async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'system', content: SYSTEM },
      { role: 'user', content: 'What should I eat in Porto?' },
    ];
    const first = await openai().chat.completions.create({ model: 'gemini-3-flash', messages });
    expect(first.usage?.prompt_tokens_details?.cached_tokens).toBe(0);
    messages.push({ role: 'assistant', content: first.choices[0]!.message.content }, { role: 'user', content: 'And to drink?' });
    const second = await openai().chat.completions.create({ model: 'gemini-3-flash', messages });
    expect(second.usage?.prompt_tokens_details?.cached_tokens).toBeGreaterThan(0);
    expect(second.usage?.prompt_tokens).toBe(fake.usage.at(-1)!.promptTokenCount);

    messages.push({ role: 'assistant', content: second.choices[0]!.message.content }, { role: 'user', content: 'And for dessert?' });
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const c of await openai().chat.completions.create({ model: 'gemini-3-flash', messages, stream: true, stream_options: { include_usage: true } })) usage = c.usage ?? usage;
    expect(usage?.prompt_tokens_details?.cached_tokens).toBe(fake.usage.at(-1)!.cachedContentTokenCount);
    expect(usage!.prompt_tokens_details!.cached_tokens!).toBeGreaterThan(second.usage!.prompt_tokens_details!.cached_tokens!);
    const ids = sentSessionIds().slice(-3);
    expect(new Set(ids).size).toBe(1);
  });

  it('another conversation gets another session id and reads nothing from the first one’s cache', async () => {
    const system = 'You plan city breaks in Spain.';
    await openai().chat.completions.create({ model: 'gemini-3-flash', messages: [{ role: 'system', content: system }, { role: 'user', content: 'Conversation one: about Madrid.' }] });
    const one = sentSessionIds().at(-1);
    // the same system prompt leads both prompts: one id per account would read it from the cache
    await openai().chat.completions.create({ model: 'gemini-3-flash', messages: [{ role: 'system', content: system }, { role: 'user', content: 'Conversation two: about Seville.' }] });
    const two = sentSessionIds().at(-1);
    expect(one).toMatch(/^[0-9a-f]{32}$/);
    expect(two).toMatch(/^[0-9a-f]{32}$/);
    expect(two).not.toBe(one);
    expect(fake.usage.at(-1)!.cachedContentTokenCount).toBe(0);
  });

  it('the session id is a hash: neither the message text nor the client’s session header goes upstream as the id', async () => {
    const header = 'client-session-7f3a';
    const text = 'abcdefghij secret plan';
    const r1 = await openai({ 'x-session-id': header }).chat.completions.create({ model: 'gemini-3-flash', messages: [{ role: 'user', content: text }] });
    const id = sentSessionIds().at(-1)!;
    // the header keys the conversation: another first message, same header, same id (and the cache)
    await openai({ 'x-session-id': header }).chat.completions.create({
      model: 'gemini-3-flash',
      messages: [
        { role: 'user', content: text },
        { role: 'assistant', content: r1.choices[0]!.message.content },
        { role: 'user', content: 'go on' },
      ],
    });
    expect(sentSessionIds().at(-1)).toBe(id);
    expect(fake.usage.at(-1)!.cachedContentTokenCount).toBeGreaterThan(0);
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(id).not.toContain(header);
    expect(id).not.toContain('abcdefghij');
    const body = JSON.stringify(fake.calls.at(-1)!.body);
    expect(body).not.toContain(header);
  });

  it('Gemini and Responses surfaces report the cached share too', async () => {
    const genai = new GoogleGenAI({ apiKey: 'sk-cc', httpOptions: { baseUrl: stack.url } });
    const ask = 'Name a museum in Vienna.';
    await genai.models.generateContent({ model: 'gemini-3-flash', contents: [{ role: 'user', parts: [{ text: ask }] }] });
    const g = await genai.models.generateContent({
      model: 'gemini-3-flash',
      contents: [
        { role: 'user', parts: [{ text: ask }] },
        { role: 'model', parts: [{ text: 'Cloud says hi.' }] },
        { role: 'user', parts: [{ text: 'Another one?' }] },
      ],
    });
    expect(g.usageMetadata?.cachedContentTokenCount).toBe(fake.usage.at(-1)!.cachedContentTokenCount);
    expect(g.usageMetadata!.cachedContentTokenCount!).toBeGreaterThan(0);

    const q = 'Name a park in Berlin.';
    await openai().responses.create({ model: 'gemini-3-flash', input: [{ role: 'user', content: q }] });
    const r = await openai().responses.create({
      model: 'gemini-3-flash',
      input: [
        { role: 'user', content: q },
        { role: 'assistant', content: 'Cloud says hi.' },
        { role: 'user', content: 'Another one?' },
      ],
    });
    expect(r.usage?.input_tokens_details.cached_tokens).toBe(fake.usage.at(-1)!.cachedContentTokenCount);
    expect(r.usage!.input_tokens_details.cached_tokens).toBeGreaterThan(0);
  });
});
