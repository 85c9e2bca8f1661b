/**
 * The warm pool with the real CLIs against the fakes: a request shape in use is kept warm and
 * served from a pre-started process (one request per process), another shape starts cold, an
 * idle warm process yields its worker slot to a queued request, idle processes expire,
 * WARM_POOL_MODELS warms at start, and nothing is left after shutdown. Every CLI (Claude Code,
 * the Gemini CLI, Qwen Code, Codex) is served warm once ready, however long its request takes to
 * come; a request that comes while its process boots waits for it; SIGTERM leaves nothing.
 */
import { describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import os from 'node:os';
import path from 'node:path';
import { readdir } from 'node:fs/promises';
import { startStack, processTree, waitFor, isAlive, type TestStack } from '../helpers/server.js';
import { processesUnder } from '../helpers/client-run.js';
import { spawnServer } from '../helpers/server-process.js';
import { claudeTestEnv, codexTestEnv, geminiTestEnv, qwenTestEnv, CLAUDE_BIN, CODEX_BIN, GEMINI_BIN, QWEN_BIN } from '../helpers/claude-env.js';
import { startFakeAnthropic } from '../fakes/anthropic.js';
import { startFakeGemini } from '../fakes/gemini.js';
import { startFakeOpenAI } from '../fakes/openai.js';
import { liveSandboxes } from '../../src/runtime/sandbox.js';
import { backgroundSettled } from '../../src/runtime/background.js';

const health = async (s: TestStack) => (await (await fetch(`${s.url}/health`)).json()) as { warm: { idle: number; starting: number; hits: number; waited: number }; cliProcesses: number; sandboxes: number };
const ask = (s: TestStack, system: string | undefined, text: string) =>
  new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'x', maxRetries: 0 }).chat.completions.create({
    model: 'claude-sonnet-4-5',
    messages: [...(system ? [{ role: 'system' as const, content: system }] : []), { role: 'user' as const, content: text }],
  });

describe('warm pool', () => {
  it('keeps the shape in use warm and serves the next request from it; other shapes start cold; shutdown leaves nothing', async () => {
    const stack = await startStack({ WARM_POOL_SIZE: '1', WARM_POOL_IDLE: '120' });
    try {
      expect((await health(stack)).warm).toEqual({ idle: 0, starting: 0, hits: 0, waited: 0 });
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

  // each CLI's upstream request: what it sent for the request's prompt and system prompt
  // processes: how many one waiting CLI is (the Gemini CLI and Qwen Code would start a second node process of themselves without *_NO_RELAUNCH)
  const CLIS: { name: string; model: string; processes?: number; sent(s: TestStack): string }[] = [
    { name: 'Claude Code', model: 'claude-sonnet-4-5', sent: (s) => JSON.stringify(s.fake.requests.filter((r) => r.path === '/v1/messages').at(-1)?.body) },
    { name: 'the Gemini CLI', model: 'gemini-2.5-flash', processes: 1, sent: (s) => JSON.stringify(s.gemini.requests.filter((r) => r.method === 'streamGenerateContent').at(-1)?.body) },
    { name: 'Qwen Code', model: 'qwen3-coder-plus', processes: 1, sent: (s) => JSON.stringify(s.openai.requests.filter((r) => r.path.endsWith('/chat/completions')).at(-1)?.body) },
    { name: 'Codex', model: 'gpt-5', sent: (s) => JSON.stringify(s.openai.requests.filter((r) => r.path.endsWith('/responses')).at(-1)?.body) },
  ];

  it.each(CLIS)('$name is served warm once ready, with its own prompt and system prompt, however long the request takes to come', async ({ model, processes, sent }) => {
    const stack = await startStack({ WARM_POOL_SIZE: '1' });
    try {
      const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'x', maxRetries: 0 });
      const ask = (text: string) => client.chat.completions.create({ model, messages: [{ role: 'system', content: 'Be short.' }, { role: 'user', content: text }] });
      expect((await ask('first')).choices[0]!.message.content).toContain('first');
      // idle counts only processes seen waiting on their stdin
      expect(await waitFor(async () => (await health(stack)).warm.idle === 1, 60_000)).toBe(true);
      // longer than the Gemini CLI and Qwen Code wait for stdin to bring something (500 ms): still waiting
      await new Promise((r) => setTimeout(r, 1000));
      expect((await health(stack)).warm).toMatchObject({ idle: 1, starting: 0 });
      if (processes) expect(await processesUnder(path.join(os.tmpdir(), `cligate-${process.pid}-`))).toHaveLength(processes);
      expect((await ask('second')).choices[0]!.message.content).toContain('second');
      // served by the process that was ready (one still booting would count as waited)
      expect((await health(stack)).warm).toMatchObject({ hits: 1, waited: 0 });
      // the warm process got this request's prompt and system prompt
      expect(sent(stack)).toContain('second');
      expect(sent(stack)).toContain('Be short.');
    } finally {
      await stack.close();
    }
    await backgroundSettled();
    expect(liveSandboxes()).toEqual([]);
    expect(await processesUnder(path.join(os.tmpdir(), `cligate-${process.pid}-`))).toEqual([]);
  });

  it('a request that comes while its shape still boots is served by that process once it is ready (the Gemini CLI)', async () => {
    const stack = await startStack({ WARM_POOL_SIZE: '1', WARM_POOL_MODELS: 'gemini-2.5-flash' });
    try {
      // spawned, not yet ready (the Gemini CLI boots for seconds)
      expect(await waitFor(async () => (await health(stack)).cliProcesses === 1, 20_000, 5)).toBe(true);
      expect((await health(stack)).warm).toMatchObject({ idle: 0, starting: 1 });
      const r = await new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'x', maxRetries: 0 }).chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'early bird' }] });
      expect(r.choices[0]!.message.content).toContain('early bird');
      expect((await health(stack)).warm).toMatchObject({ hits: 0, waited: 1 });
      // one process served it: no cold one was started beside it
      expect(stack.gemini.requests.filter((q) => q.method === 'streamGenerateContent')).toHaveLength(1);
    } finally {
      await stack.close();
    }
  });

  it('SIGTERM to the server process with warm processes of every CLI, booting and ready: exit 0, none of them left, no sandbox', async () => {
    const fakes = { anthropic: await startFakeAnthropic(), gemini: await startFakeGemini(), openai: await startFakeOpenAI() };
    const base = await claudeTestEnv(fakes.anthropic.url);
    try {
      Object.assign(base.env, await geminiTestEnv(base.home, fakes.gemini.url), await qwenTestEnv(base.home, fakes.openai.url), await codexTestEnv(base.home, fakes.openai.url));
      const server = await spawnServer({
        ...base.env,
        CLAUDE_CLI_PATH: CLAUDE_BIN,
        GEMINI_CLI_PATH: GEMINI_BIN,
        QWEN_CLI_PATH: QWEN_BIN,
        CODEX_CLI_PATH: CODEX_BIN,
        WARM_POOL_SIZE: '1',
        WARM_POOL_MODELS: CLIS.map((c) => c.model).join(','),
      });
      const sandboxes = path.join(os.tmpdir(), `cligate-${server.serverPid}-`);
      const h = async () => (await (await fetch(`${server.url}/health`)).json()) as { warm: { idle: number; starting: number } };
      // the fast ones ready, at least one still booting
      expect(await waitFor(async () => (await h()).warm.idle >= 1 && (await h()).warm.idle + (await h()).warm.starting === 4, 60_000)).toBe(true);
      const pids = (await processTree(server.serverPid)).filter((p) => p !== server.serverPid);
      expect(pids.length).toBeGreaterThanOrEqual(4);
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
      expect(await waitFor(() => pids.every((p) => !isAlive(p)), 10_000)).toBe(true);
      expect(await processesUnder(sandboxes)).toEqual([]);
      const left = (await readdir(os.tmpdir())).filter((d) => d.startsWith(path.basename(sandboxes)));
      expect(left).toEqual([]);
    } finally {
      await fakes.anthropic.close();
      await fakes.gemini.close();
      await fakes.openai.close();
      await base.cleanup();
    }
  });
});
