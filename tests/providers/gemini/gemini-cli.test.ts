/** The gemini-cli provider with the real Gemini CLI against the fake Gemini API. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import OpenAI from 'openai';
import { startStack, type TestStack } from '../../helpers/server.js';
import { liveSandboxes } from '../../../src/runtime/sandbox.js';
import { backgroundSettled } from '../../../src/runtime/background.js';

let stack: TestStack;
let client: OpenAI;
beforeAll(async () => {
  stack = await startStack();
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'x', maxRetries: 0 });
});
afterAll(async () => stack?.close());

const lastCall = () => stack.gemini.requests.filter((r) => r.method === 'streamGenerateContent').at(-1)!;

describe('gemini-cli provider', () => {
  it('streams the answer with the CLI-reported usage; the client system prompt replaces the CLI one', async () => {
    stack.gemini.setScript({ reply: 'one two three', usage: { promptTokenCount: 50, candidatesTokenCount: 3, cachedContentTokenCount: 20 } });
    const stream = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      stream: true,
      stream_options: { include_usage: true },
      messages: [
        { role: 'system', content: 'You are a pirate named Zanzibar.' },
        { role: 'user', content: 'count' },
      ],
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const c of stream) {
      text += c.choices[0]?.delta.content ?? '';
      if (c.usage) usage = c.usage;
    }
    expect(text).toBe('one two three');
    expect(usage).toMatchObject({ prompt_tokens: 50, completion_tokens: 3, prompt_tokens_details: { cached_tokens: 20 } });
    const call = lastCall();
    expect(call.model).toBe('gemini-2.5-flash');
    expect(JSON.stringify(call.body.systemInstruction)).toBe(JSON.stringify({ parts: [{ text: 'You are a pirate named Zanzibar.' }], role: 'user' }));
  });

  it('offers the model only web search and fetch (sandbox settings), never file or shell tools', async () => {
    stack.gemini.setScript({ reply: 'ok' });
    await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] });
    const tools: string[] = (lastCall().body.tools ?? []).flatMap((t: { functionDeclarations?: { name: string }[] }) => (t.functionDeclarations ?? []).map((f) => f.name));
    expect(tools.sort()).toEqual(['google_web_search', 'web_fetch']);
  });

  it('"gemini" routes to GEMINI_MODEL', async () => {
    stack.gemini.setScript({ reply: 'ok' });
    await client.chat.completions.create({ model: 'gemini', messages: [{ role: 'user', content: 'hi' }] });
    expect(lastCall().model).toBe('gemini-2.5-pro');
  });

  it('maps upstream 401 / 429 / 500 at once (one attempt), leaving no sandbox and no session files', async () => {
    for (const [status, expected] of [
      [401, 401],
      [429, 429],
      [500, 502],
    ] as const) {
      stack.gemini.setScript({ status });
      const before = stack.gemini.requests.length;
      const err = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
      expect((err as InstanceType<typeof OpenAI.APIError>).status, `upstream ${status}`).toBe(expected);
      expect((err as Error).message).toMatch(/gemini/);
      expect(stack.gemini.requests.filter((r) => r.method === 'streamGenerateContent').length - before).toBeLessThanOrEqual(1);
    }
    stack.gemini.setScript({});
    await backgroundSettled(); // sandbox removal runs after the response
    expect(liveSandboxes()).toEqual([]);
    const tmp = path.join(stack.home, '.gemini', 'tmp');
    const left = existsSync(tmp) ? (await readdir(tmp)).filter((d) => d.startsWith('cligate-')) : [];
    expect(left).toEqual([]);
  });
});
