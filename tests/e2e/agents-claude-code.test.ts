/**
 * Claude Code (the real `claude` 2.1.x CLI) as a client of cligate, configured exactly as a
 * user would: ANTHROPIC_BASE_URL=<cligate>, ANTHROPIC_API_KEY=<key>, nothing else about cligate.
 *
 * - Its DEFAULT model (no --model: claude-opus-4-8, which makes it send a role "system" message
 *   after the first user turn, thinking adaptive, context_management, output_config and beta
 *   headers) is answered by the claude-cli provider (the real claude CLI in a sandbox, pointed
 *   at the fake Anthropic): nothing of the request is dropped on the way.
 * - A tool round trip with its own Bash tool: through the claude-cli provider (tools emulated by
 *   cligate: the inner model writes a <tool_call> block), and through an OpenAI-compatible upstream
 *   (the fake OpenAI, native tool_calls, with reasoning) that claude-opus-4-8 is routed to.
 * - --model claude-sonnet-4-5 for contrast (no mid-conversation system message).
 * Each run has its own HOME and cwd under the OS temp dir; no process may outlive a test.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execa, type Result } from 'execa';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startStack, type TestStack } from '../helpers/server.js';
import { expectNoProcessesLeft, startTap, type Seen } from '../helpers/client-run.js';
import { CLAUDE_BIN } from '../helpers/claude-env.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai.js';
import { startFakeKiro, type FakeKiro, kiroEnv } from '../fakes/kiro.js';
import { dataDirWithStore } from '../helpers/accounts.js';

const KEY = 'sk-cligate-user';
const DEFAULT_MODEL = 'claude-opus-4-8';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'cligate-agents-claude-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
});

/** a fresh HOME and working directory for one Claude Code run */
async function sandbox(name: string): Promise<{ home: string; cwd: string }> {
  const home = path.join(root, name, 'home');
  const cwd = path.join(root, name, 'work');
  await mkdir(home, { recursive: true });
  await mkdir(cwd, { recursive: true });
  return { home, cwd };
}

interface ClaudeJson {
  type: string;
  subtype: string;
  is_error: boolean;
  result: string;
  num_turns: number;
  usage: { output_tokens: number };
}

/** `claude -p <prompt> --output-format json`, as a user runs it against cligate */
async function claudeCode(url: string, dirs: { home: string; cwd: string }, prompt: string, extra: string[] = []): Promise<{ run: Result; out: ClaudeJson; ms: number }> {
  const t0 = Date.now();
  const run = await execa(CLAUDE_BIN, ['-p', prompt, '--output-format', 'json', ...extra], {
    env: {
      HOME: dirs.home,
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ANTHROPIC_BASE_URL: url,
      ANTHROPIC_API_KEY: KEY,
      // keeps it off the network (only ANTHROPIC_BASE_URL) and quick to fail
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_AUTOUPDATER: '1',
      CLAUDE_CODE_MAX_RETRIES: '0',
    },
    extendEnv: false,
    input: '',
    cwd: dirs.cwd,
    timeout: 120_000,
    reject: false,
  });
  const ms = Date.now() - t0;
  let out: ClaudeJson;
  try {
    out = JSON.parse(String(run.stdout)) as ClaudeJson;
  } catch {
    throw new Error(`claude printed no JSON (exit ${run.exitCode}):\nstdout: ${String(run.stdout).slice(-2000)}\nstderr: ${String(run.stderr).slice(-2000)}`);
  }
  return { run, out, ms };
}

const messageCalls = (seen: Seen[]) => seen.filter((q) => q.method === 'POST' && q.path.split('?')[0] === '/v1/messages');

/** an Anthropic request body's system prompt as text */
function systemText(body: any): string {
  const sys = body?.system;
  return typeof sys === 'string' ? sys : Array.isArray(sys) ? sys.map((b: any) => b.text ?? '').join('\n') : '';
}

/** all text of an Anthropic request body's messages (strings and text blocks) */
function messagesText(body: any): string {
  return (body?.messages ?? [])
    .flatMap((m: any) => (typeof m.content === 'string' ? [m.content] : (m.content ?? []).map((p: any) => p.text ?? (typeof p.content === 'string' ? p.content : JSON.stringify(p.content ?? '')))))
    .join('\n');
}

describe('Claude Code -> cligate -> claude-cli provider (real claude CLI -> fake Anthropic)', () => {
  let stack: TestStack;
  let tap: Awaited<ReturnType<typeof startTap>>;
  beforeAll(async () => {
    stack = await startStack({ API_KEY: KEY });
    tap = await startTap(stack.url);
  });
  afterAll(async () => {
    await tap?.close();
    await stack?.close();
  });
  afterEach(async () => {
    await expectNoProcessesLeft(root);
  });

  it('default model (claude-opus-4-8, mid-conversation system message, adaptive thinking): completes, nothing dropped', async () => {
    stack.fake.setScript({ reply: 'pong from the fake upstream' });
    const before = stack.fake.requests.length;
    const sent = tap.seen.length;
    const { run, out, ms } = await claudeCode(tap.url, await sandbox('default'), 'hi');
    expect(run.exitCode, String(run.stderr)).toBe(0);
    expect(out.is_error, JSON.stringify(out)).toBe(false);
    expect(out.result).toBe('pong from the fake upstream');
    expect(out.usage.output_tokens).toBeGreaterThan(0);

    // what Claude Code sent: its default model, a system message after the user's turn, adaptive
    // thinking, context_management and output_config, with the betas that go with them
    const calls = messageCalls(tap.seen.slice(sent));
    expect(calls.map((c) => c.body.model)).toContain(DEFAULT_MODEL);
    const taskCall = calls.find((c) => (c.body.tools ?? []).length > 0);
    expect(taskCall, JSON.stringify(calls.map((c) => c.body.messages))).toBeDefined();
    const t = taskCall!.body;
    expect(t.model).toBe(DEFAULT_MODEL);
    expect(t.stream).toBe(true);
    expect(t.messages[0].role).toBe('user');
    const mid = (t.messages as any[]).findIndex((m, i) => i > 0 && m.role === 'system');
    expect(mid).toBeGreaterThan(0);
    expect(messagesText({ messages: [t.messages[mid]] })).toContain('Available agent types');
    expect(t.thinking).toMatchObject({ type: 'adaptive' });
    expect(t.context_management).toBeDefined();
    expect(t.output_config).toBeDefined();
    expect(String(taskCall!.headers['anthropic-beta'])).toContain('mid-conversation-system');
    expect(taskCall!.headers['x-api-key']).toBe(KEY);

    const inner = stack.fake.requests.slice(before).filter((q) => q.path === '/v1/messages');
    expect(inner.length).toBeGreaterThan(0);
    // the inner CLI was asked for the model Claude Code asked for
    expect(inner.map((q) => q.body.model)).toContain(DEFAULT_MODEL);
    // the task request's mid-conversation system message ("Available agent types …") reached the
    // model: rendered into the prompt of the inner CLI's user turn
    const task = inner.find((q) => messagesText(q.body).includes('Available agent types'));
    expect(task, inner.map((q) => messagesText(q.body).slice(0, 3000)).join('\n=====\n')).toBeDefined();
    const userTurns = (task!.body.messages as any[]).filter((m) => m.role === 'user');
    expect(messagesText({ messages: userTurns })).toMatch(/<turn role="System">\s*[\s\S]*Available agent types/);
    // and the user's prompt with it
    expect(messagesText({ messages: userTurns })).toMatch(/<turn role="User">[\s\S]*\bhi\b/);
    console.log(`[timing] Claude Code default model via claude-cli: ${ms} ms`);
  });

  it('default model: a Bash round trip with tools emulated by cligate (the inner CLI writes a <tool_call> block)', async () => {
    const result = (prompt: string) => /<tool_result[^>]*>\n([\s\S]*?)\n<\/tool_result>/.exec(prompt)?.[1];
    stack.fake.setScript({
      reply: (prompt, body) => {
        const out = result(prompt);
        if (out !== undefined) return `The command printed: ${out.trim()}`;
        // cligate lists the client's tools in the inner CLI's system prompt, one JSON object a line
        if (!systemText(body).includes('{"name":"Bash"')) return 'Greeting';
        return `I'll run it.\n<tool_call>\n${JSON.stringify({ name: 'Bash', arguments: { command: 'echo tool-ran-ok', description: 'x' } })}\n</tool_call>`;
      },
    });
    const before = stack.fake.requests.length;
    const sent = tap.seen.length;
    const { run, out, ms } = await claudeCode(tap.url, await sandbox('emulated-bash'), 'run echo tool-ran-ok', ['--allowedTools', 'Bash']);
    const inner = stack.fake.requests.slice(before).filter((q) => q.path === '/v1/messages');
    const dump = inner.map((q) => `${JSON.stringify(q.body.system ?? '').slice(0, 300)}\n--\n${messagesText(q.body).slice(-1500)}`).join('\n=====\n');
    expect(run.exitCode, `${String(run.stderr)}\n${dump}`).toBe(0);
    expect(out.is_error, `${JSON.stringify(out)}\n${dump}`).toBe(false);
    const calls = messageCalls(tap.seen.slice(sent));
    const back = calls.at(-1)!.body.messages as any[];
    const turn = back.find((m) => m.role === 'assistant' && Array.isArray(m.content) && m.content.some((p: any) => p.type === 'tool_use'));
    expect(turn, dump).toBeDefined();
    expect(turn.content.find((p: any) => p.type === 'tool_use')).toMatchObject({ name: 'Bash', input: { command: 'echo tool-ran-ok' } });
    expect(JSON.stringify(back.at(-1).content)).toContain('tool-ran-ok');
    expect(out.result, dump).toBe('The command printed: tool-ran-ok');
    console.log(`[timing] Claude Code default model, Bash round trip via claude-cli (emulated tools): ${ms} ms`);
  });

  it('--model claude-sonnet-4-5 (no mid-conversation system message) completes too', async () => {
    stack.fake.setScript({ reply: 'sonnet says pong' });
    const before = stack.fake.requests.length;
    const sent = tap.seen.length;
    const { run, out, ms } = await claudeCode(tap.url, await sandbox('sonnet'), 'hi', ['--model', 'claude-sonnet-4-5']);
    expect(run.exitCode, String(run.stderr)).toBe(0);
    expect(out.is_error, JSON.stringify(out)).toBe(false);
    expect(out.result).toBe('sonnet says pong');
    const inner = stack.fake.requests.slice(before).filter((q) => q.path === '/v1/messages');
    expect(inner.map((q) => q.body.model)).toContain('claude-sonnet-4-5');
    // the contrast: with this model Claude Code sends no system message in the conversation
    const calls = messageCalls(tap.seen.slice(sent));
    expect(calls.length).toBeGreaterThan(0);
    for (const c of calls) expect((c.body.messages as any[]).filter((m) => m.role === 'system')).toEqual([]);
    console.log(`[timing] Claude Code --model claude-sonnet-4-5 via claude-cli: ${ms} ms`);
  });
});

describe('Claude Code -> cligate -> openai-compatible provider (fake OpenAI): a Bash tool round trip', () => {
  let upstream: FakeOpenAI;
  let stack: TestStack;
  let tap: Awaited<ReturnType<typeof startTap>>;
  beforeAll(async () => {
    upstream = await startFakeOpenAI();
    // API providers are offered a bare name before the claude CLI's claude-* pattern: listing
    // claude-opus-4-8 as a model of the OpenAI-compatible upstream sends Claude Code's default there
    stack = await startStack({ API_KEY: KEY, OPENAI_COMPATIBLE_BASE_URL: `${upstream.url}/v1`, OPENAI_COMPATIBLE_MODELS: DEFAULT_MODEL });
    tap = await startTap(stack.url);
  });
  afterAll(async () => {
    await tap?.close();
    await stack?.close();
    await upstream?.close();
  });
  afterEach(async () => {
    await expectNoProcessesLeft(root);
  });

  it('default model: the model calls Bash, Claude Code runs it and sends the result back, the model answers from it', async () => {
    const toolText = (body: any): string | undefined => {
      const tool = (body.messages as any[]).filter((m) => m.role === 'tool').at(-1);
      if (!tool) return undefined;
      return typeof tool.content === 'string' ? tool.content : (tool.content as any[]).map((p) => p.text ?? '').join('');
    };
    const hasTools = (body: any) => Array.isArray(body.tools) && body.tools.length > 0;
    upstream.setScript({
      // reasoning too, as reasoning models send it: Claude Code gets thinking blocks and sends them back
      reasoning: 'thinking about tool-use',
      // side calls (title, summaries) come without tools: plain text
      reply: (_user, body) => {
        if (!hasTools(body)) return 'Greeting';
        const out = toolText(body);
        return out === undefined ? '' : `The command printed: ${out.trim()}`;
      },
      toolCalls: (body) => (hasTools(body) && toolText(body) === undefined ? [{ name: 'Bash', arguments: JSON.stringify({ command: 'echo tool-ran-ok', description: 'x' }) }] : undefined),
    });
    const before = upstream.requests.length;
    const sent = tap.seen.length;
    const { run, out, ms } = await claudeCode(tap.url, await sandbox('bash'), 'run echo tool-ran-ok', ['--allowedTools', 'Bash']);
    const chats = upstream.requests.slice(before).filter((q) => q.path.endsWith('/chat/completions'));
    const dump = JSON.stringify(chats.map((c) => ({ tools: (c.body.tools ?? []).length, messages: c.body.messages.slice(1) })), null, 1).slice(0, 6000);
    expect(run.exitCode, `${String(run.stderr)}\n${dump}`).toBe(0);
    expect(out.is_error, `${JSON.stringify(out)}\n${dump}`).toBe(false);

    const task = chats.filter((c) => hasTools(c.body));
    expect(task.length, dump).toBe(2);
    const [first, second] = task.map((c) => c.body);
    expect(first.model).toBe(DEFAULT_MODEL);
    expect(first.tools.map((x: any) => x.function.name)).toContain('Bash');
    // the second request carries the call and its result: Claude Code really ran the command
    const assistant = (second.messages as any[]).find((m) => m.role === 'assistant' && m.tool_calls);
    expect(assistant.tool_calls[0].function.name).toBe('Bash');
    expect(JSON.parse(assistant.tool_calls[0].function.arguments)).toMatchObject({ command: 'echo tool-ran-ok' });
    const tool = (second.messages as any[]).find((m) => m.role === 'tool');
    expect(tool.tool_call_id).toBe(assistant.tool_calls[0].id);
    expect(toolText(second)?.trim()).toBe('tool-ran-ok');
    // the mid-conversation system message went to the upstream too (as OpenAI-compatible servers take it)
    expect(JSON.stringify(first.messages)).toContain('Available agent types');

    // Claude Code -> cligate: the thinking block and the tool_use go back with the tool_result, and are accepted
    const sentCalls = messageCalls(tap.seen.slice(sent));
    expect(sentCalls.map((c) => c.status)).toEqual(sentCalls.map(() => 200));
    const back = sentCalls.at(-1)!.body.messages as any[];
    const turn = back.find((m) => m.role === 'assistant' && Array.isArray(m.content) && m.content.some((p: any) => p.type === 'tool_use'));
    expect(turn.content.map((p: any) => p.type)).toEqual(['thinking', 'tool_use']);
    expect(turn.content[0].thinking).toBe('thinking about tool-use');
    expect(back.at(-1).content[0]).toMatchObject({ type: 'tool_result', tool_use_id: turn.content[1].id, content: 'tool-ran-ok', is_error: false });
    expect(out.result).toBe('The command printed: tool-ran-ok');
    expect(out.num_turns).toBeGreaterThanOrEqual(2);
    console.log(`[timing] Claude Code default model, Bash round trip via openai-compatible: ${ms} ms`);
  });
});

describe('Claude Code -> cligate -> Kiro accounts through a route (fake Kiro), falling back to the claude CLI', () => {
  let kiro: FakeKiro;
  let stack: TestStack;
  let dataDir: string;
  let tap: Awaited<ReturnType<typeof startTap>>;
  const kiroChats = () => kiro.calls.filter((c) => c.path.endsWith('generateAssistantResponse'));
  beforeAll(async () => {
    kiro = await startFakeKiro([{ refresh_token: 'rt-cc', auth_method: 'social' }]);
    dataDir = await dataDirWithStore('cc-kiro', { accounts: [{ id: 'kiro-cc', provider: 'kiro', credentials: { refresh_token: 'rt-cc', auth_method: 'social' } }] });
    stack = await startStack({
      API_KEY: KEY,
      DATA_DIR: dataDir,
      ...kiroEnv(kiro),
      // the README's example: Claude Code's Opus names to Kiro's Opus, then the claude CLI
      MODEL_ROUTES: 'claude-opus-4*=kiro/claude-opus-4.5,claude-cli',
      ACCOUNT_COOLDOWN_BASE: '0.001',
      ACCOUNT_COOLDOWN_MAX: '0.05',
    });
    tap = await startTap(stack.url);
  });
  afterAll(async () => {
    await tap?.close();
    await stack?.close();
    await kiro?.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  afterEach(async () => {
    await expectNoProcessesLeft(root);
  });

  it('default model (claude-opus-4-8) is answered by Kiro as claude-opus-4.5; the claude CLI is never started', async () => {
    kiro.setScript({ reply: 'Kiro answers Claude Code' });
    const before = kiroChats().length;
    const inner = stack.fake.requests.length;
    const sent = tap.seen.length;
    const { run, out } = await claudeCode(tap.url, await sandbox('kiro-route'), 'hi');
    expect(run.exitCode, String(run.stderr)).toBe(0);
    expect(out.is_error, JSON.stringify(out)).toBe(false);
    expect(out.result).toBe('Kiro answers Claude Code');
    expect(messageCalls(tap.seen.slice(sent)).map((c) => c.body.model)).toContain(DEFAULT_MODEL);
    const chats = kiroChats().slice(before);
    expect(chats.length).toBeGreaterThan(0);
    expect(chats.map((c) => c.body.conversationState.currentMessage.userInputMessage.modelId)).toContain('claude-opus-4.5');
    expect(stack.fake.requests.length - inner).toBe(0);
  });

  it("Kiro's accounts exhausted (429): the same default model is answered by the claude CLI", async () => {
    kiro.setScript({ status: { 'rt-cc': 429 } });
    stack.fake.setScript({ reply: 'the claude CLI after Kiro' });
    const inner = stack.fake.requests.length;
    const { run, out } = await claudeCode(tap.url, await sandbox('kiro-exhausted'), 'hi');
    expect(run.exitCode, String(run.stderr)).toBe(0);
    expect(out.is_error, JSON.stringify(out)).toBe(false);
    expect(out.result).toBe('the claude CLI after Kiro');
    expect(stack.fake.requests.slice(inner).filter((q) => q.path === '/v1/messages').map((q) => q.body.model)).toContain(DEFAULT_MODEL);
  });
});
