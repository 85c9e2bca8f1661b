/** The qwen-cli provider with the real Qwen Code against the fake OpenAI-compatible API. */
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

describe('qwen-cli provider', () => {
  it('answers with the upstream text and usage in ONE upstream call; system prompt replaces its own; only web tools offered', async () => {
    stack.openai.setScript({ reply: 'qwen says hi', usage: { prompt_tokens: 30, completion_tokens: 3 } });
    const before = stack.openai.requests.length;
    const r = await client.chat.completions.create({
      model: 'qwen3-coder-plus',
      messages: [
        { role: 'system', content: 'You are a pirate named Zanzibar.' },
        { role: 'user', content: 'hi' },
      ],
    });
    expect(r.choices[0]?.message.content).toBe('qwen says hi');
    expect(r.usage).toMatchObject({ prompt_tokens: 30, completion_tokens: 3 });
    const calls = stack.openai.requests.slice(before);
    expect(calls).toHaveLength(1); // no memory-extraction side call
    const body = calls[0]!.body;
    expect(body.model).toBe('qwen3-coder-plus');
    expect(JSON.stringify(body.messages[0])).toContain('You are a pirate named Zanzibar.');
    const tools: string[] = (body.tools ?? []).map((t: { function: { name: string } }) => t.function.name);
    expect(tools).toEqual(['web_fetch']);
  });

  it('an upstream 401 is a 401 naming qwen, and nothing is left behind', async () => {
    stack.openai.setScript({ status: 401 });
    const err = await client.chat.completions.create({ model: 'qwen', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    stack.openai.setScript({});
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(401);
    expect((err as Error).message).toMatch(/qwen/);
    await backgroundSettled(); // sandbox removal runs after the response
    expect(liveSandboxes()).toEqual([]);
    const projects = path.join(stack.home, '.qwen', 'projects');
    const left = existsSync(projects) ? (await readdir(projects)).filter((d) => d.includes('cligate')) : [];
    expect(left).toEqual([]);
  });
});
