/**
 * Qwen Code (the real `qwen` 0.15.x) as a client of cligate's OpenAI chat surface
 * (POST /v1/chat/completions, streamed), configured exactly as a user would:
 *   OPENAI_BASE_URL=<cligate>/v1  OPENAI_API_KEY=<cligate key>  OPENAI_MODEL=local-coder
 *   qwen -p "<prompt>" --auth-type openai --approval-mode yolo -o json|stream-json
 * The model is served by cligate's openai-compatible provider (the fake OpenAI).
 *
 * - a prompt completes (token-level stream events with --include-partial-messages, usage in the result);
 * - a tool round trip with Qwen Code's own shell tool (its name and parameters taken from the request
 *   the upstream receives): Qwen runs it and sends the tool result back through cligate;
 * - reasoning from the upstream is shown by Qwen as a thinking block;
 * - an image attached with `@pixel.png` reaches the upstream as an image part once the user's
 *   settings.json declares that the model takes images (Qwen decides that from the model name).
 * Qwen may make a background "managed memory extraction" call after the task: the fake answers it
 * without tools, by its content. Each run has its own HOME and cwd; no process may outlive a test.
 */
import { describe, expect, it } from 'vitest';
import { execa, type Result } from 'execa';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type TestStack } from '../helpers/server.js';
import { useClientStack, type Tap } from '../helpers/client-run.js';
import { QWEN_BIN } from '../helpers/claude-env.js';

/** Qwen Code 0.15.10's own entry; QWEN_E2E_BIN runs the same tests against another release (e.g. QWEN_LATEST_BIN) */
const QWEN = process.env.QWEN_E2E_BIN ?? QWEN_BIN;
import { type FakeOpenAI } from '../fakes/openai.js';

const KEY = 'sk-cligate-user';
/** a model only the OpenAI-compatible upstream serves */
const LOCAL = 'local-coder';
/** a 1x1 PNG */
const PIXEL = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

let root: string;
let upstream: FakeOpenAI;
let stack: TestStack;
let tap: Tap;

useClientStack('qwen', { key: KEY, models: LOCAL }, (s) => ({ root, upstream, stack, tap } = s));

interface QwenRun {
  run: Result;
  /** Date.now() when the client started */
  t0: number;
  /** the events: one per line with stream-json, the array with json */
  events: any[];
  ms: number;
}

/** `qwen -p <prompt> --auth-type openai --approval-mode yolo -o <format>` with a fresh HOME and cwd, against cligate (through the tap) */
async function qwen(
  name: string,
  prompt: string,
  opts: { format?: 'json' | 'stream-json'; partial?: boolean; files?: Record<string, string | Buffer>; settings?: object } = {},
): Promise<QwenRun> {
  const home = path.join(root, name, 'home');
  const cwd = path.join(root, name, 'work');
  await mkdir(home, { recursive: true });
  await mkdir(cwd, { recursive: true });
  if (opts.settings) {
    await mkdir(path.join(home, '.qwen'), { recursive: true });
    await writeFile(path.join(home, '.qwen', 'settings.json'), JSON.stringify(opts.settings));
  }
  for (const [file, content] of Object.entries(opts.files ?? {})) await writeFile(path.join(cwd, file), content);
  const format = opts.format ?? 'stream-json';
  const t0 = Date.now();
  const run = await execa(QWEN, ['-p', prompt, '--auth-type', 'openai', '--approval-mode', 'yolo', '-o', format, ...(opts.partial ? ['--include-partial-messages'] : [])], {
    env: {
      HOME: home,
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      OPENAI_BASE_URL: `${tap.url}/v1`,
      OPENAI_API_KEY: KEY,
      OPENAI_MODEL: LOCAL,
    },
    extendEnv: false,
    input: '',
    cwd,
    timeout: 120_000,
    reject: false,
  });
  const ms = Date.now() - t0;
  const stdout = String(run.stdout).trim();
  let events: any[] = [];
  try {
    events = format === 'json' ? (JSON.parse(stdout) as any[]) : stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  } catch {
    // left empty: the assertions print stdout
  }
  return { run, events, ms, t0 };
}

/** when each client call of a run arrived and ended, relative to the client's start: where the wall time goes */
const timeline = (r: { t0: number; ms: number }) =>
  tap.seen
    .filter((q) => q.at >= r.t0 && q.at <= r.t0 + r.ms)
    .map((q) => `${q.method} ${q.path.split('?')[0]} ${q.status ?? '-'} +${q.at - r.t0}..+${(q.end ?? q.at) - r.t0} ms`)
    .join('; ');
const why = (r: QwenRun, extra = '') => `exit ${r.run.exitCode}\nstderr: ${String(r.run.stderr).slice(-3000)}\nstdout: ${String(r.run.stdout).slice(-3000)}${extra}`;
const textOf = (content: unknown): string =>
  typeof content === 'string' ? content : Array.isArray(content) ? content.map((p: any) => (p?.type === 'text' ? p.text : '')).join('') : '';
/** the managed-memory extraction call Qwen may make after a task */
const isMemoryCall = (body: any) => textOf(body.messages?.[0]?.content).includes('memory extraction subagent');
/** the task's calls (not the memory call) as cligate and the upstream saw them */
const chatCalls = (from: number) => tap.seen.slice(from).filter((q) => q.method === 'POST' && q.path === '/v1/chat/completions');
const taskCalls = (from: number) => upstream.requests.slice(from).filter((q) => q.path.endsWith('/chat/completions') && !isMemoryCall(q.body));
const result = (r: QwenRun) => r.events.find((e) => e.type === 'result');
/** the last tool message's text in a chat-completions body */
const toolText = (body: any): string | undefined => {
  const tool = (body.messages as any[]).filter((m) => m.role === 'tool').at(-1);
  return tool ? textOf(tool.content) : undefined;
};
/** Qwen's shell tool as the upstream sees it declared: the function whose parameters have a `command` and whose name says shell */
const shellTool = (body: any): { name: string; parameters: any } | undefined =>
  (body.tools ?? []).map((t: any) => t.function).find((f: any) => /shell|bash/i.test(f?.name ?? '') && f?.parameters?.properties?.command);
/** a model: memory calls get a plain answer; the task gets `task` */
const script = (task: (userText: string, body: any) => string) => (userText: string, body: any) => (isMemoryCall(body) ? 'Nothing durable to save.' : task(userText, body));

describe('Qwen Code -> cligate /v1/chat/completions -> openai-compatible', () => {
  it('a prompt completes (-o json): the answer and usage', async () => {
    upstream.setScript({ reply: script(() => 'pong from the local model'), usage: { prompt_tokens: 321, completion_tokens: 4 } });
    const from = tap.seen.length;
    const before = upstream.requests.length;
    const r = await qwen('prompt-json', 'say pong', { format: 'json' });
    expect(r.run.exitCode, why(r)).toBe(0);
    expect(result(r), why(r)).toMatchObject({ subtype: 'success', is_error: false, result: 'pong from the local model' });
    expect(result(r).usage.input_tokens).toBeGreaterThanOrEqual(321);
    expect(result(r).usage.output_tokens).toBeGreaterThanOrEqual(4);

    const calls = chatCalls(from);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(calls[0]!.body).toMatchObject({ model: LOCAL, stream: true });
    expect(calls.map((c) => c.status)).toEqual(calls.map(() => 200));
    const task = taskCalls(before);
    expect(task).toHaveLength(1);
    expect(task[0]!.body).toMatchObject({ model: LOCAL, stream: true });
    expect(textOf((task[0]!.body.messages as any[]).at(-1).content)).toContain('say pong');
    console.log(`[timing] qwen -p (json) via openai-compatible: ${r.ms} ms [${timeline(r)}] (${upstream.requests.length - before} upstream calls)`);
  });

  it('a prompt streams token by token (stream-json --include-partial-messages)', async () => {
    upstream.setScript({ reply: script(() => 'hello there in several pieces') });
    const r = await qwen('prompt-stream', 'say hello', { partial: true });
    expect(r.run.exitCode, why(r)).toBe(0);
    const deltas = r.events.filter((e) => e.type === 'stream_event' && e.event?.type === 'content_block_delta' && e.event.delta?.type === 'text_delta');
    expect(deltas.length, why(r)).toBeGreaterThan(1);
    expect(deltas.map((e) => e.event.delta.text).join('')).toBe('hello there in several pieces');
    expect(result(r)).toMatchObject({ is_error: false, result: 'hello there in several pieces' });
    const version = r.events.find((e) => e.type === 'system' && e.subtype === 'init')?.qwen_code_version;
    console.log(`[timing] qwen ${version} -p (stream-json, partial messages) via openai-compatible: ${r.ms} ms [${timeline(r)}]`);
  });

  it('reasoning from the upstream is shown as a thinking block, the answer is only the text', async () => {
    upstream.setScript({ reasoning: 'weighing the options carefully', reply: script(() => 'the considered answer') });
    const r = await qwen('thinking', 'think, then answer');
    expect(r.run.exitCode, why(r)).toBe(0);
    const blocks = r.events.filter((e) => e.type === 'assistant').flatMap((e) => e.message.content);
    expect(blocks.filter((b: any) => b.type === 'thinking').map((b: any) => b.thinking).join('')).toContain('weighing the options carefully');
    expect(result(r)).toMatchObject({ is_error: false, result: 'the considered answer' });
    console.log(`[timing] qwen -p with reasoning via openai-compatible: ${r.ms} ms [${timeline(r)}]`);
  });
});

describe('Qwen Code -> cligate -> openai-compatible: a shell tool round trip', () => {
  it('the model calls Qwen\'s shell tool, Qwen runs it and sends the result back, the model answers from it', async () => {
    upstream.setScript({
      reply: script((_user, body) => {
        const out = toolText(body);
        if (out !== undefined) return out.includes('tool-ran-ok') ? 'The command printed: tool-ran-ok' : `The command failed: ${out.slice(0, 300)}`;
        // a preamble before the call, as models write one
        return shellTool(body) ? 'I will run it. ' : 'no shell tool offered';
      }),
      toolCalls: (body) => {
        if (isMemoryCall(body) || toolText(body) !== undefined) return undefined;
        const shell = shellTool(body);
        if (!shell) return undefined;
        // the required parameters besides `command`, filled as the model would
        const args: Record<string, unknown> = { command: 'echo tool-ran-ok' };
        for (const p of (shell.parameters.required ?? []) as string[]) {
          if (p in args) continue;
          const type = shell.parameters.properties?.[p]?.type;
          args[p] = type === 'boolean' ? false : type === 'number' || type === 'integer' ? 0 : 'print a marker';
        }
        return [{ name: shell.name, arguments: JSON.stringify(args) }];
      },
    });
    const from = tap.seen.length;
    const before = upstream.requests.length;
    const r = await qwen('tool-shell', 'run echo tool-ran-ok');
    const task = taskCalls(before);
    const dump = `\nupstream saw: ${JSON.stringify(task.map((c) => c.body.messages.slice(-2)), null, 1).slice(0, 4000)}`;
    expect(r.run.exitCode, why(r, dump)).toBe(0);

    // Qwen: the tool_use, its tool_result, then the final answer
    const blocks = r.events.filter((e) => e.type === 'assistant' || e.type === 'user').flatMap((e) => e.message.content as any[]);
    const use = blocks.find((b) => b.type === 'tool_use');
    const shellName = shellTool(task[0]!.body)!.name;
    expect(use, why(r, dump)).toMatchObject({ name: shellName, input: { command: 'echo tool-ran-ok' } });
    const res = blocks.find((b) => b.type === 'tool_result');
    expect(res).toMatchObject({ tool_use_id: use.id, is_error: false });
    expect(JSON.stringify(res.content)).toContain('tool-ran-ok');
    expect(result(r)).toMatchObject({ is_error: false, result: 'The command printed: tool-ran-ok', num_turns: 2 });

    // Qwen -> cligate: the assistant tool_call and the tool message
    const second = chatCalls(from).find((c) => !isMemoryCall(c.body) && toolText(c.body) !== undefined)?.body;
    expect(second, dump).toBeDefined();
    const sent = (second.messages as any[]).find((m) => m.role === 'assistant' && m.tool_calls);
    expect(sent.tool_calls[0].function.name).toBe(shellName);
    expect((second.messages as any[]).find((m) => m.role === 'tool').tool_call_id).toBe(sent.tool_calls[0].id);

    // cligate -> upstream: the same, with the command's output in the tool message
    expect(task).toHaveLength(2);
    const up = task[1]!.body;
    const assistant = (up.messages as any[]).find((m) => m.role === 'assistant' && m.tool_calls);
    expect(assistant.tool_calls).toHaveLength(1);
    expect(textOf(assistant.content)).toBe('I will run it. ');
    expect(assistant.tool_calls[0].function.name).toBe(shellName);
    expect(JSON.parse(assistant.tool_calls[0].function.arguments)).toMatchObject({ command: 'echo tool-ran-ok' });
    expect((up.messages as any[]).find((m) => m.role === 'tool').tool_call_id).toBe(assistant.tool_calls[0].id);
    expect(toolText(up)).toContain('tool-ran-ok');
    console.log(`[timing] qwen -p, ${shellName} round trip via openai-compatible: ${r.ms} ms [${timeline(r)}] (${upstream.requests.length - before} upstream calls)`);
  });
});

describe('Qwen Code -> cligate -> openai-compatible: images', () => {
  it('an image attached with @pixel.png reaches the upstream as an image part (settings.json declares image input)', async () => {
    upstream.setScript({
      reply: script((_user, body) => {
        const user = (body.messages as any[]).filter((m) => m.role === 'user').at(-1);
        const image = Array.isArray(user?.content) && user.content.some((p: any) => p.type === 'image_url');
        return image ? 'I see a single pixel.' : 'I see no image.';
      }),
    });
    const from = tap.seen.length;
    const before = upstream.requests.length;
    const r = await qwen('image', 'describe @pixel.png', {
      files: { 'pixel.png': Buffer.from(PIXEL, 'base64') },
      // Qwen only sends images to models it knows take them (gpt-*, claude-*, gemini-*, …): a user declares it for others
      settings: { model: { generationConfig: { modalities: { image: true } } } },
    });
    const task = taskCalls(before);
    const dump = `\nupstream saw: ${JSON.stringify(upstream.requests.slice(before).map((c) => ({ system: textOf(c.body.messages[0]?.content).slice(0, 80), last: JSON.stringify(c.body.messages.at(-1)).slice(0, 600) })), null, 1)}`;
    expect(r.run.exitCode, why(r, dump)).toBe(0);
    expect(result(r), why(r, dump)).toMatchObject({ is_error: false, result: 'I see a single pixel.' });
    expect(task, dump).toHaveLength(1);
    const imageOf = (body: any): string | undefined =>
      ((body.messages as any[]).filter((m) => m.role === 'user').at(-1)?.content as any[] | undefined)?.find?.((p: any) => p.type === 'image_url')?.image_url.url;
    // Qwen -> cligate: the picture as a data URL (0.15.10 sends the PNG as is; later releases re-encode it as JPEG)
    const sent = imageOf(chatCalls(from).find((c) => !isMemoryCall(c.body))!.body);
    expect(sent, dump).toMatch(/^data:image\/(png|jpeg);base64,/);
    // cligate -> upstream: the same picture
    expect(imageOf(task[0]!.body), dump).toBe(sent);
    console.log(`[timing] qwen -p with @pixel.png via openai-compatible: ${r.ms} ms [${timeline(r)}]`);
  });
});
