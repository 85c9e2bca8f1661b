/**
 * The warm pool with the real claude CLI against the fake Anthropic API: a request shape
 * in use is kept warm and served from a pre-started process (one request per process),
 * another shape starts cold, an idle warm process yields its worker slot to a queued
 * request, idle processes expire, WARM_POOL_MODELS warms at start, and nothing is left
 * after shutdown.
 */
import { describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { startStack, processTree, waitFor, type TestStack } from '../helpers/server.js';
import { liveSandboxes } from '../../src/runtime/sandbox.js';
import { backgroundSettled } from '../../src/runtime/background.js';

const health = async (s: TestStack) => (await (await fetch(`${s.url}/health`)).json()) as { warm: { idle: number; starting: number; hits: number }; cliProcesses: number; sandboxes: number };
const ask = (s: TestStack, system: string | undefined, text: string) =>
  new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'x', maxRetries: 0 }).chat.completions.create({
    model: 'claude-sonnet-4-5',
    messages: [...(system ? [{ role: 'system' as const, content: system }] : []), { role: 'user' as const, content: text }],
  });

describe('warm pool', () => {
  it('keeps the shape in use warm and serves the next request from it; other shapes start cold; shutdown leaves nothing', async () => {
    const stack = await startStack({ WARM_POOL_SIZE: '1', WARM_POOL_IDLE: '120' });
    try {
      expect((await health(stack)).warm).toEqual({ idle: 0, starting: 0, hits: 0 });
      const first = await ask(stack, 'You are terse.', 'one');
      expect(first.choices[0]!.message.content).toBe('Echo: one');
      // the shape just used is now waiting, started
      expect(await waitFor(async () => (await health(stack)).warm.idle === 1, 20_000)).toBe(true);
      const sent = stack.fake.requests.length;
      const second = await ask(stack, 'You are terse.', 'two');
      expect(second.choices[0]!.message.content).toBe('Echo: two');
      expect((await health(stack)).warm.hits).toBe(1);
      // the warm process got this request's system prompt and prompt
      const req = stack.fake.requests.slice(sent).find((r) => r.path === '/v1/messages' && JSON.stringify(r.body.messages).includes('two'));
      expect(JSON.stringify(req?.body.system)).toContain('You are terse.');
      // another system prompt is another shape: cold
      await ask(stack, 'You are verbose.', 'three');
      expect((await health(stack)).warm.hits).toBe(1);
      await backgroundSettled();
      expect(await waitFor(async () => (await health(stack)).warm.idle === 2, 20_000)).toBe(true);
      // only the warm ones are alive: each served process is gone
      const h = await health(stack);
      expect(h.cliProcesses).toBe(2);
    } finally {
      await stack.close();
    }
    await backgroundSettled();
    expect(liveSandboxes()).toEqual([]);
    const claudes = (await processTree(process.pid)).filter((pid) => pid !== process.pid);
    for (const pid of claudes) {
      const cmd = await import('node:fs/promises').then((fs) => fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => ''));
      expect(cmd).not.toContain('claude');
    }
  });

  it('an idle warm process gives its worker slot to a request of another shape, and idle ones expire', async () => {
    const stack = await startStack({ WARM_POOL_SIZE: '1', WARM_POOL_IDLE: '3', WORKER_CONCURRENCY: '1', QUEUE_TIMEOUT: '60000' });
    try {
      await ask(stack, 'Shape A.', 'a');
      expect(await waitFor(async () => (await health(stack)).warm.idle === 1, 20_000)).toBe(true);
      // the only slot is held by the warm A; B must not wait for it to expire
      const b = await ask(stack, 'Shape B.', 'b');
      expect(b.choices[0]!.message.content).toBe('Echo: b');
      expect((await health(stack)).warm.hits).toBe(0);
      // after WARM_POOL_IDLE nothing waits any more
      expect(await waitFor(async () => {
        const h = await health(stack);
        return h.warm.idle === 0 && h.cliProcesses === 0 && h.sandboxes === 0;
      }, 30_000)).toBe(true);
    } finally {
      await stack.close();
    }
  });

  it('WARM_POOL_MODELS warms at start for requests without a system prompt', async () => {
    const stack = await startStack({ WARM_POOL_SIZE: '1', WARM_POOL_MODELS: 'claude-sonnet-4-5' });
    try {
      expect(await waitFor(async () => (await health(stack)).warm.idle === 1, 20_000)).toBe(true);
      const r = await ask(stack, undefined, 'warm start');
      expect(r.choices[0]!.message.content).toBe('Echo: warm start');
      expect((await health(stack)).warm.hits).toBe(1);
    } finally {
      await stack.close();
    }
  });

  it('Qwen Code is served warm too', async () => {
    const stack = await startStack({ WARM_POOL_SIZE: '1' });
    try {
      const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'x', maxRetries: 0 });
      const ask1 = (text: string) => client.chat.completions.create({ model: 'qwen3-coder-plus', messages: [{ role: 'system', content: 'Be short.' }, { role: 'user', content: text }] });
      expect((await ask1('first')).choices[0]!.message.content).toMatch(/^Echo: first/);
      expect(await waitFor(async () => (await health(stack)).warm.idle === 1, 30_000)).toBe(true);
      expect((await ask1('second')).choices[0]!.message.content).toMatch(/^Echo: second/);
      expect((await health(stack)).warm.hits).toBe(1);
      // the warm qwen got this request's system prompt
      const sent = stack.openai.requests.at(-1)!.body.messages;
      expect(JSON.stringify(sent)).toContain('Be short.');
      expect(JSON.stringify(sent)).toContain('second');
    } finally {
      await stack.close();
    }
    // the refill started after the second request is gone too, sandbox and all
    await backgroundSettled();
    expect(liveSandboxes()).toEqual([]);
  });
});
