/**
 * Codex (the real `codex` CLI) as a client of cligate's Responses surface (POST /v1/responses),
 * configured exactly as a user would: a model provider in $CODEX_HOME/config.toml whose
 * base_url is cligate, the key in an environment variable, `codex exec` headless.
 *
 * - A prompt answered by the claude-cli provider (the real claude CLI -> fake Anthropic) and by
 *   the openai-compatible provider (the fake OpenAI, chat completions).
 * - A tool round trip: the model calls Codex's own exec_command, Codex runs it and sends the
 *   function_call_output back, the model answers from it (openai-compatible with native tool
 *   calls and reasoning; claude-cli with tools emulated by cligate).
 * - Codex's default config declares the hosted web_search tool: refused with a clear message by a
 *   provider that cannot run it (openai-compatible), run by one that can (claude-cli).
 */
import { describe, expect, it } from 'vitest';
import { execa, type Result } from 'execa';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type TestStack } from '../helpers/server.js';
import { useClientStack, type Tap } from '../helpers/client-run.js';
import { CODEX_BIN } from '../helpers/claude-env.js';
import { type FakeOpenAI } from '../fakes/openai.js';

const KEY = 'sk-cligate-user';
/** a model only the OpenAI-compatible upstream serves */
const LOCAL = 'local-coder';

let root: string;
let upstream: FakeOpenAI;
let stack: TestStack;
let tap: Tap;

useClientStack('codex', { key: KEY, models: LOCAL }, (s) => ({ root, upstream, stack, tap } = s));


/** the config.toml a user writes to put Codex in front of cligate */
function codexConfig(url: string, model: string, opts: { webSearch: boolean }): string {
  return [
    `model = "${model}"`,
    'model_provider = "cligate"',
    // Codex declares OpenAI's hosted web_search tool unless told not to; only some providers behind cligate run it
    ...(opts.webSearch ? [] : ['web_search = "disabled"']),
    '',
    '[model_providers.cligate]',
    'name = "cligate"',
    `base_url = "${url}/v1"`,
    'env_key = "CLIGATE_API_KEY"',
    'wire_api = "responses"',
    'request_max_retries = 0',
    'stream_max_retries = 0',
    '',
  ].join('\n');
}

interface CodexRun {
  run: Result;
  /** the --json events */
  events: any[];
  /** what -o wrote: the last agent message */
  last: string;
  ms: number;
}

/** `codex exec --json -o <file> <prompt>` (--json unless json: false) with a fresh CODEX_HOME, HOME and working directory */
async function codexExec(name: string, model: string, prompt: string, opts: { webSearch?: boolean; json?: boolean } = {}): Promise<CodexRun> {
  const dir = path.join(root, name);
  const codexHome = path.join(dir, 'codex-home');
  const home = path.join(dir, 'home');
  const cwd = path.join(dir, 'work');
  for (const d of [codexHome, home, cwd]) await mkdir(d, { recursive: true });
  await writeFile(path.join(codexHome, 'config.toml'), codexConfig(tap.url, model, { webSearch: opts.webSearch ?? false }));
  const lastFile = path.join(dir, 'last-message.txt');
  const t0 = Date.now();
  const run = await execa(
    CODEX_BIN,
    ['exec', '--skip-git-repo-check', '--dangerously-bypass-approvals-and-sandbox', '--ephemeral', '--color', 'never', ...(opts.json === false ? [] : ['--json']), '-o', lastFile, prompt],
    {
      env: { HOME: home, PATH: process.env.PATH ?? '/usr/bin:/bin', CODEX_HOME: codexHome, CLIGATE_API_KEY: KEY },
      extendEnv: false,
      input: '',
      cwd,
      timeout: 120_000,
      reject: false,
    },
  );
  const ms = Date.now() - t0;
  const events = String(run.stdout)
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
  const last = await readFile(lastFile, 'utf8').catch(() => '');
  return { run, events, last, ms };
}

const responsesCalls = (from: number) => tap.seen.slice(from).filter((q) => q.method === 'POST' && q.path.split('?')[0] === '/v1/responses');
const agentText = (events: any[]) => events.filter((e) => e.type === 'item.completed' && e.item?.type === 'agent_message').map((e) => e.item.text);
const why = (r: CodexRun) => `exit ${r.run.exitCode}\nstderr: ${String(r.run.stderr).slice(-3000)}\nstdout: ${String(r.run.stdout).slice(-3000)}`;

describe('Codex exec -> cligate /v1/responses', () => {
  it('claude-cli provider (claude-sonnet-4-5): a prompt is answered', async () => {
    stack.fake.setScript({ reply: 'pong from claude' });
    const from = tap.seen.length;
    const before = stack.fake.requests.length;
    const r = await codexExec('claude-prompt', 'claude-sonnet-4-5', 'say pong');
    expect(r.run.exitCode, why(r)).toBe(0);
    expect(agentText(r.events)).toEqual(['pong from claude']);
    expect(r.last.trim()).toBe('pong from claude');
    const calls = responsesCalls(from);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls[0]!.body).toMatchObject({ model: 'claude-sonnet-4-5', stream: true });
    expect(calls[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(stack.fake.requests.slice(before).some((q) => q.path === '/v1/messages' && q.body.model === 'claude-sonnet-4-5')).toBe(true);
    console.log(`[timing] codex exec via claude-cli: ${r.ms} ms`);
  });

  it('openai-compatible provider: a prompt is answered', async () => {
    upstream.setScript({ reply: 'pong from the local model' });
    const before = upstream.requests.length;
    // without --json, as a user reads it: the answer alone on stdout, the progress on stderr
    const r = await codexExec('local-prompt', LOCAL, 'say pong', { json: false });
    expect(r.run.exitCode, why(r)).toBe(0);
    expect(String(r.run.stdout).trim()).toBe('pong from the local model');
    expect(r.last.trim()).toBe('pong from the local model');
    const chats = upstream.requests.slice(before).filter((q) => q.path.endsWith('/chat/completions'));
    expect(chats.length).toBeGreaterThan(0);
    expect(chats[0]!.body).toMatchObject({ model: LOCAL, stream: true });
    console.log(`[timing] codex exec via openai-compatible: ${r.ms} ms`);
  });
});

describe('Codex exec -> cligate -> openai-compatible: an exec_command round trip', () => {
  it('the model calls exec_command, Codex runs it and sends function_call_output back, the model answers from it', async () => {
    /** the last tool message's text in a chat-completions body */
    const toolText = (body: any): string | undefined => {
      const tool = (body.messages as any[]).filter((m) => m.role === 'tool').at(-1);
      if (!tool) return undefined;
      return typeof tool.content === 'string' ? tool.content : (tool.content as any[]).map((p) => p.text ?? '').join('');
    };
    const offers = (body: any, name: string) => (body.tools ?? []).some((t: any) => t.function?.name === name);
    upstream.setScript({
      // reasoning too, as reasoning models send it: Codex shows it and sends the item back
      reasoning: 'thinking about tool-use',
      reply: (_user, body) => {
        const out = toolText(body);
        if (out !== undefined) return out.includes('tool-ran-ok') ? 'The command printed: tool-ran-ok' : `The command failed: ${out.slice(0, 300)}`;
        return offers(body, 'exec_command') ? '' : 'no tools offered';
      },
      toolCalls: (body) => (offers(body, 'exec_command') && toolText(body) === undefined ? [{ name: 'exec_command', arguments: JSON.stringify({ cmd: 'echo tool-ran-ok' }) }] : undefined),
    });
    const from = tap.seen.length;
    const before = upstream.requests.length;
    const r = await codexExec('local-tool', LOCAL, 'run echo tool-ran-ok');
    const chats = upstream.requests.slice(before).filter((q) => q.path.endsWith('/chat/completions'));
    const dump = JSON.stringify(chats.map((c) => c.body.messages.slice(-3)), null, 1).slice(0, 5000);
    expect(r.run.exitCode, `${why(r)}\n${dump}`).toBe(0);

    // Codex: the command ran, then the final answer
    const command = r.events.find((e) => e.type === 'item.completed' && e.item?.type === 'command_execution');
    expect(command?.item, JSON.stringify(r.events)).toMatchObject({ status: 'completed', exit_code: 0 });
    expect(command.item.aggregated_output).toContain('tool-ran-ok');
    expect(r.events.find((e) => e.type === 'item.completed' && e.item?.type === 'reasoning')?.item.text).toBe('thinking about tool-use');
    expect(agentText(r.events).at(-1)).toBe('The command printed: tool-ran-ok');
    expect(r.last.trim()).toBe('The command printed: tool-ran-ok');

    // Codex -> cligate: the function_call and its function_call_output in the second request's input
    const calls = responsesCalls(from);
    expect(calls.length, JSON.stringify(calls.map((c) => c.path))).toBe(2);
    const input = calls[1]!.body.input as any[];
    const call = input.find((i) => i.type === 'function_call');
    const output = input.find((i) => i.type === 'function_call_output');
    expect(call).toMatchObject({ name: 'exec_command' });
    expect(JSON.parse(call.arguments)).toMatchObject({ cmd: 'echo tool-ran-ok' });
    expect(output.call_id).toBe(call.call_id);
    expect(JSON.stringify(output.output)).toContain('tool-ran-ok');
    expect(input.find((i) => i.type === 'reasoning')?.summary).toEqual([{ type: 'summary_text', text: 'thinking about tool-use' }]);

    // cligate -> upstream: the call as an assistant tool_call, the output as a tool message
    expect(chats).toHaveLength(2);
    const second = chats[1]!.body;
    const assistant = (second.messages as any[]).find((m) => m.role === 'assistant' && m.tool_calls);
    expect(assistant.tool_calls[0].function.name).toBe('exec_command');
    const tool = (second.messages as any[]).find((m) => m.role === 'tool');
    expect(tool.tool_call_id).toBe(assistant.tool_calls[0].id);
    expect(toolText(second)).toContain('tool-ran-ok');
    console.log(`[timing] codex exec, exec_command round trip via openai-compatible: ${r.ms} ms`);
  });
});

describe('Codex exec -> cligate -> claude-cli: an exec_command round trip with tools emulated by cligate', () => {
  it('the inner CLI writes a <tool_call> block, Codex runs exec_command, the result comes back as <tool_result>', async () => {
    const result = (prompt: string) => /<tool_result[^>]*>\n([\s\S]*?)\n<\/tool_result>/.exec(prompt)?.[1];
    const systemText = (body: any): string => (typeof body.system === 'string' ? body.system : (body.system ?? []).map((b: any) => b.text ?? '').join('\n'));
    stack.fake.setScript({
      reply: (prompt, body) => {
        const out = result(prompt);
        if (out !== undefined) return out.includes('tool-ran-ok') ? 'The command printed: tool-ran-ok' : `The command failed: ${out.slice(0, 300)}`;
        if (!systemText(body).includes('{"name":"exec_command"')) return 'no tools offered';
        return `I'll run it.\n<tool_call>\n${JSON.stringify({ name: 'exec_command', arguments: { cmd: 'echo tool-ran-ok' } })}\n</tool_call>`;
      },
    });
    const from = tap.seen.length;
    const before = stack.fake.requests.length;
    const r = await codexExec('claude-tool', 'claude-sonnet-4-5', 'run echo tool-ran-ok');
    const inner = stack.fake.requests.slice(before).filter((q) => q.path === '/v1/messages');
    const dump = inner.map((q) => JSON.stringify(q.body.messages).slice(-1500)).join('\n=====\n');
    expect(r.run.exitCode, `${why(r)}\n${dump}`).toBe(0);
    const command = r.events.find((e) => e.type === 'item.completed' && e.item?.type === 'command_execution');
    expect(command?.item, `${JSON.stringify(r.events)}\n${dump}`).toMatchObject({ status: 'completed', exit_code: 0 });
    expect(command.item.aggregated_output).toContain('tool-ran-ok');
    expect(agentText(r.events).at(-1)).toBe('The command printed: tool-ran-ok');
    const calls = responsesCalls(from);
    expect(calls).toHaveLength(2);
    const output = (calls[1]!.body.input as any[]).find((i) => i.type === 'function_call_output');
    expect(JSON.stringify(output.output)).toContain('tool-ran-ok');
    expect(inner).toHaveLength(2);
    console.log(`[timing] codex exec, exec_command round trip via claude-cli (emulated tools): ${r.ms} ms`);
  });
});

describe("Codex's default config (hosted web_search declared)", () => {
  it('openai-compatible cannot run web_search: Codex fails fast with cligate\'s message naming it', async () => {
    upstream.setScript({ reply: 'should not be asked' });
    const from = tap.seen.length;
    const before = upstream.requests.length;
    const r = await codexExec('local-websearch', LOCAL, 'say pong', { webSearch: true, json: false });
    expect(r.run.exitCode, why(r)).not.toBe(0);
    const calls = responsesCalls(from);
    expect(calls.length).toBeGreaterThan(0);
    expect((calls[0]!.body.tools as any[]).map((t) => t.type)).toContain('web_search');
    expect(calls.map((c) => c.status)).toEqual(calls.map(() => 400));
    // the reason, as Codex shows it to its user (on stderr without --json)
    expect(String(r.run.stderr)).toContain("Tool type 'web_search' is a hosted tool that provider 'openai-compatible' cannot run");
    expect(String(r.run.stderr)).toMatch(/web_search = \\?"disabled\\?" in config\.toml/);
    // nothing reached the upstream
    expect(upstream.requests.length).toBe(before);
    console.log(`[timing] codex exec refused (web_search, openai-compatible): ${r.ms} ms`);
  });

  it('claude-cli runs web_search itself: the same default config works', async () => {
    stack.fake.setScript({ reply: 'pong with web search on' });
    const from = tap.seen.length;
    const before = stack.fake.requests.length;
    const r = await codexExec('claude-websearch', 'claude-sonnet-4-5', 'say pong', { webSearch: true });
    expect(r.run.exitCode, why(r)).toBe(0);
    expect((responsesCalls(from)[0]!.body.tools as any[]).map((t) => t.type)).toContain('web_search');
    expect(agentText(r.events)).toEqual(['pong with web search on']);
    // the inner claude CLI was offered its own WebSearch tool to run the search with
    const inner = stack.fake.requests.slice(before).filter((q) => q.path === '/v1/messages');
    expect(inner.flatMap((q) => (q.body.tools ?? []).map((t: any) => t.name))).toContain('WebSearch');
    expect(r.last.trim()).toBe('pong with web search on');
    console.log(`[timing] codex exec with web_search via claude-cli: ${r.ms} ms`);
  });
});
