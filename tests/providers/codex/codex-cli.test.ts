/** The codex-cli provider with the real Codex against the fake Responses API. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

const responsesCalls = () => stack.openai.requests.filter((r) => r.path.endsWith('/responses'));

describe('codex-cli provider', () => {
  it('answers with usage; gpt-* routes to codex; system prompt reaches it; no shell or file tools offered', async () => {
    stack.openai.setScript({ reply: 'codex says hi', usage: { prompt_tokens: 40, completion_tokens: 3, cached_tokens: 10 } });
    const r = await client.chat.completions.create({
      model: 'gpt-5',
      messages: [
        { role: 'system', content: 'You are a pirate named Zanzibar.' },
        { role: 'user', content: 'hi' },
      ],
    });
    expect(r.choices[0]?.message.content).toBe('codex says hi');
    expect(r.usage).toMatchObject({ prompt_tokens: 40, completion_tokens: 3, prompt_tokens_details: { cached_tokens: 10 } });
    const body = responsesCalls().at(-1)!.body;
    expect(body.model).toBe('gpt-5');
    expect(JSON.stringify(body)).toContain('You are a pirate named Zanzibar.');
    const tools: string[] = (body.tools ?? []).map((t: { name?: string; type?: string }) => t.name ?? t.type);
    for (const forbidden of ['exec_command', 'shell', 'apply_patch', 'write_stdin', 'multi_agent_v1']) expect(tools).not.toContain(forbidden);
  });

  it('an upstream 429 is a 429 naming codex, nothing left behind', async () => {
    stack.openai.setScript({ status: 429 });
    const err = await client.chat.completions.create({ model: 'codex', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    stack.openai.setScript({});
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(429);
    expect((err as Error).message).toMatch(/codex/);
    await backgroundSettled(); // sandbox removal runs after the response
    expect(liveSandboxes()).toEqual([]);
  });
});
