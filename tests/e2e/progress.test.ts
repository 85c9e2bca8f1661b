/** A "-progress" model over the real claude CLI: markers while it works, then the answer. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { startStack, type TestStack } from '../helpers/server.js';

let stack: TestStack;
let client: OpenAI;

beforeAll(async () => {
  stack = await startStack({ PROGRESS_INTERVAL: '0.02', PROGRESS_MAX_INTERVAL: '0.05' });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'x', maxRetries: 0 });
});
afterAll(async () => stack?.close());

describe('-progress models', () => {
  it('stream ⏳ and rotating markers before the answer; the plain model streams the answer only', async () => {
    stack.fake.setScript({ reply: 'Slow answer.', delayMs: 400 });
    const read = async (model: string) => {
      let text = '';
      for await (const c of await client.chat.completions.create({ model, stream: true, messages: [{ role: 'user', content: 'hi' }] })) {
        text += c.choices[0]?.delta.content ?? '';
      }
      return text;
    };
    const withMarkers = await read('claude-sonnet-4-5-progress');
    expect(withMarkers).toMatch(/^⏳( [◐◓◑◒]\.+)+\n\nSlow answer\.$/);
    expect(await read('claude-sonnet-4-5')).toBe('Slow answer.');
    // the upstream got the routed model name, without the suffix
    const models = stack.fake.requests.filter((r) => r.path === '/v1/messages').map((r) => r.body.model);
    expect(models.slice(-2)).toEqual(['claude-sonnet-4-5', 'claude-sonnet-4-5']);
  });

  it('non-stream requests of a -progress model get the answer alone', async () => {
    stack.fake.setScript({ reply: 'Plain.' });
    const r = await client.chat.completions.create({ model: 'claude-sonnet-4-5-progress', messages: [{ role: 'user', content: 'hi' }] });
    expect(r.choices[0]!.message.content).toBe('Plain.');
    expect(r.model).toBe('claude-sonnet-4-5-progress');
  });
});
