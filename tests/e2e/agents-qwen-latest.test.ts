/**
 * Qwen Code's current release (0.24.4, the `qwen-code-latest` devDependency: QWEN_LATEST_BIN) as a client
 * of cligate's OpenAI chat surface (POST /v1/chat/completions, streamed), configured as a user would:
 *   ~/.qwen/settings.json {"security":{"auth":{"selectedType":"openai"}}}
 *   OPENAI_BASE_URL=<cligate>/v1  OPENAI_API_KEY=<cligate key>  OPENAI_MODEL=<model>
 *   qwen -p "<prompt>" --auth-type openai -o json --approval-mode yolo
 * The model is served by cligate's openai-compatible provider (the fake OpenAI).
 *
 * - a prompt completes: the answer and usage in its result; all its function tools reach the upstream,
 *   the two without `parameters` (get_goal, list_agents) included; with stream-json and
 *   --include-partial-messages it streams token by token;
 * - reasoning_content from the upstream is shown as a thinking block;
 * - a round trip with Qwen Code's own shell tool (its name and parameters taken from the request):
 *   Qwen runs it and sends the tool message back through cligate;
 * - an image: the model calls read_file on a PNG in the cwd, Qwen answers the tool with text and adds a
 *   user message carrying the image (re-encoded as JPEG), which reaches the upstream as an image part.
 *   Qwen sends images only to models it knows take them: this one runs as claude-sonnet-4-5 (served by the
 *   OpenAI-compatible upstream too).
 * Qwen makes a background "managed memory extraction" call after a task (its own system prompt, six tools
 * of its own): the fake answers it with text, by its content. Each run has its own HOME, TMPDIR and cwd;
 * no process may outlive a test.
 */
import { describe, expect, it } from 'vitest';
import { execa, type Result } from 'execa';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { waitFor, type TestStack } from '../helpers/server.js';
import { useClientStack, type Tap } from '../helpers/client-run.js';
import { QWEN_LATEST_BIN } from '../helpers/claude-env.js';
import { PIXEL_PNG, textOf, toolText, imageParts } from '../helpers/opencode-like.js';
import { type FakeOpenAI } from '../fakes/openai.js';

const KEY = 'sk-cligate-user';
/** a model only the OpenAI-compatible upstream serves */
const LOCAL = 'local-coder';
/** a model Qwen Code 0.24 knows takes images; served by the OpenAI-compatible upstream as well */
const CLAUDE = 'claude-sonnet-4-5';
const TEST_TIMEOUT = 120_000;

let root: string;
let upstream: FakeOpenAI;
let stack: TestStack;
let tap: Tap;

useClientStack('qwen-latest', { key: KEY, models: `${LOCAL},${CLAUDE}` }, (s) => ({ root, upstream, stack, tap } = s));

interface QwenRun {
  run: Result;
  /** the -o json events (one array), or the stream-json events (one a line) */
  events: any[];
  ms: number;
}

/** `qwen -p <prompt> --auth-type openai -o json --approval-mode yolo` (or `-o stream-json --include-partial-messages`) with a fresh HOME, TMPDIR and cwd, against cligate (through the tap) */
async function qwen(name: string, prompt: string, opts: { model?: string; files?: Record<string, Buffer>; stream?: boolean } = {}): Promise<QwenRun> {
  const home = path.join(root, name, 'home');
  const tmp = path.join(root, name, 'tmp');
  const cwd = path.join(root, name, 'work');
  for (const d of [home, tmp, cwd, path.join(home, '.qwen')]) await mkdir(d, { recursive: true });
  await writeFile(path.join(home, '.qwen', 'settings.json'), JSON.stringify({ security: { auth: { selectedType: 'openai' } } }));
  for (const [file, content] of Object.entries(opts.files ?? {})) await writeFile(path.join(cwd, file), content);
  const t0 = Date.now();
  const format = opts.stream ? ['-o', 'stream-json', '--include-partial-messages'] : ['-o', 'json'];
  const run = await execa(process.execPath, [QWEN_LATEST_BIN, '-p', prompt, '--auth-type', 'openai', ...format, '--approval-mode', 'yolo'], {
    env: {
      HOME: home,
      TMPDIR: tmp,
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      OPENAI_BASE_URL: `${tap.url}/v1`,
      OPENAI_API_KEY: KEY,
      OPENAI_MODEL: opts.model ?? LOCAL,
    },
    extendEnv: false,
    input: '',
    cwd,
    timeout: TEST_TIMEOUT - 20_000,
    reject: false,
  });
  const ms = Date.now() - t0;
  let events: any[] = [];
  try {
    const stdout = String(run.stdout).trim();
    events = opts.stream ? stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)) : (JSON.parse(stdout) as any[]);
  } catch {
    // left empty: the assertions print stdout
  }
  return { run, events, ms };
}

const why = (r: QwenRun, extra = '') => `exit ${r.run.exitCode}${r.run.timedOut ? ' (timed out)' : ''}\nstderr: ${String(r.run.stderr).slice(-3000)}\nstdout: ${String(r.run.stdout).slice(-3000)}${extra}`;
/** the managed-memory extraction call Qwen makes after a task */
const isMemoryCall = (body: any) => textOf(body?.messages?.[0]?.content).includes('memory extraction subagent');
const chatCalls = (from: number) => tap.seen.slice(from).filter((q) => q.method === 'POST' && q.path.split('?')[0] === '/v1/chat/completions');
/** the memory call Qwen makes just before it exits may still be on its way: wait until cligate answered each */
const answered = (from: number) => waitFor(() => chatCalls(from).every((c) => c.status !== undefined), 5000);
/** the task's calls (not the memory call) as the upstream saw them */
const taskCalls = (from: number) => upstream.requests.slice(from).filter((q) => q.path.endsWith('/chat/completions') && !isMemoryCall(q.body));
const result = (r: QwenRun) => r.events.find((e) => e.type === 'result');
const blocks = (r: QwenRun) => r.events.filter((e) => e.type === 'assistant' || e.type === 'user').flatMap((e) => (e.message?.content ?? []) as any[]);
/** Qwen's shell tool as declared in a request: the function whose parameters have a `command` and whose name says shell */
const shellTool = (body: any): { name: string; parameters: any } | undefined =>
  (body.tools ?? []).map((t: any) => t.function).find((f: any) => /shell|bash/i.test(f?.name ?? '') && f?.parameters?.properties?.command);
const offers = (body: any, name: string) => (body?.tools ?? []).some((t: any) => t.function?.name === name);
/** the fake model: memory calls get a plain answer, the task `task` */
const model = (task: (userText: string, body: any) => string) => (userText: string, body: any) => (isMemoryCall(body) ? 'Nothing durable to save.' : task(userText, body));
const dumpUpstream = (from: number) =>
  `\nupstream saw: ${JSON.stringify(taskCalls(from).map((c) => c.body.messages.slice(-2)), null, 1).slice(0, 4000)}`;

describe('Qwen Code 0.24 -> cligate /v1/chat/completions -> openai-compatible', () => {
  it('a prompt completes: the answer and usage in its result, every tool declared reaches the upstream', async () => {
    upstream.setScript({ reply: model(() => 'pong from the local model'), usage: { prompt_tokens: 321, completion_tokens: 4 } });
    const from = tap.seen.length;
    const before = upstream.requests.length;
    const r = await qwen('prompt', 'say pong');
    await answered(from);
    expect(r.run.exitCode, why(r)).toBe(0);
    expect(result(r), why(r)).toMatchObject({ subtype: 'success', is_error: false, result: 'pong from the local model' });
    expect(result(r).usage.input_tokens).toBeGreaterThanOrEqual(321);
    expect(result(r).usage.output_tokens).toBeGreaterThanOrEqual(4);

    // client -> cligate: streamed, every call answered 200 (the memory call included)
    const calls = chatCalls(from);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.map((c) => c.status)).toEqual(calls.map(() => 200));
    const sent = calls.find((c) => !isMemoryCall(c.body))!;
    expect(sent.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(sent.headers['user-agent']).toMatch(/^QwenCode\/0\.24\.4 /);
    expect(sent.body).toMatchObject({ model: LOCAL, stream: true, stream_options: { include_usage: true } });
    // two of its function tools come without `parameters`
    const bare = (sent.body.tools as any[]).filter((t) => t.function.parameters === undefined).map((t) => t.function.name);
    expect(bare).toEqual(expect.arrayContaining(['get_goal', 'list_agents']));

    // cligate -> upstream: the task once, with every tool the client declared
    const task = taskCalls(before);
    expect(task).toHaveLength(1);
    expect(task[0]!.body).toMatchObject({ model: LOCAL, stream: true });
    expect(textOf((task[0]!.body.messages as any[]).at(-1).content)).toContain('say pong');
    const names = (b: any) => ((b.tools ?? []) as any[]).map((t) => t.function.name).sort();
    expect(names(task[0]!.body)).toEqual(names(sent.body));
    console.log(`[timing] qwen 0.24 -p (json) via openai-compatible: ${r.ms} ms (${calls.length} calls, memory call ${calls.some((c) => isMemoryCall(c.body)) ? 'made' : 'not made'})`);
  }, TEST_TIMEOUT);

  it('a prompt streams token by token (-o stream-json --include-partial-messages)', async () => {
    upstream.setScript({ reply: model(() => 'hello there in several pieces') });
    const r = await qwen('stream', 'say hello', { stream: true });
    expect(r.run.exitCode, why(r)).toBe(0);
    const deltas = r.events.filter((e) => e.type === 'stream_event' && e.event?.type === 'content_block_delta' && e.event.delta?.type === 'text_delta');
    expect(deltas.length, why(r)).toBeGreaterThan(1);
    expect(deltas.map((e) => e.event.delta.text).join('')).toBe('hello there in several pieces');
    expect(result(r)).toMatchObject({ is_error: false, result: 'hello there in several pieces' });
    console.log(`[timing] qwen 0.24 -p (stream-json, partial messages) via openai-compatible: ${r.ms} ms (${deltas.length} text deltas)`);
  }, TEST_TIMEOUT);

  it('reasoning from the upstream is shown as a thinking block, the answer is only the text', async () => {
    upstream.setScript({ reasoning: 'weighing the options carefully', reply: model(() => 'the considered answer') });
    const r = await qwen('thinking', 'think, then answer');
    expect(r.run.exitCode, why(r)).toBe(0);
    const thinking = blocks(r).filter((b) => b.type === 'thinking').map((b) => b.thinking);
    expect(thinking.join(''), why(r)).toContain('weighing the options carefully');
    expect(result(r)).toMatchObject({ is_error: false, result: 'the considered answer' });
    console.log(`[timing] qwen 0.24 -p with reasoning via openai-compatible: ${r.ms} ms`);
  }, TEST_TIMEOUT);
});

describe('Qwen Code 0.24 -> cligate -> openai-compatible: a shell tool round trip', () => {
  it("the model calls Qwen's shell tool, Qwen runs it and sends the result back, the model answers from it", async () => {
    upstream.setScript({
      reply: model((_user, body) => {
        const out = toolText(body);
        if (out !== undefined) return out.includes('tool-ran-ok') ? 'The command printed: tool-ran-ok' : `The command failed: ${out.slice(0, 300)}`;
        return shellTool(body) ? '' : 'no shell tool offered';
      }),
      toolCalls: (body) => {
        if (isMemoryCall(body) || toolText(body) !== undefined) return undefined;
        const shell = shellTool(body);
        if (!shell) return undefined;
        // the required parameters besides `command`, filled as a model would
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
    const r = await qwen('tool', 'run echo tool-ran-ok');
    await answered(from);
    const task = taskCalls(before);
    const dump = dumpUpstream(before);
    expect(r.run.exitCode, why(r, dump)).toBe(0);

    // Qwen: the tool_use, its tool_result, then the final answer
    const shellName = shellTool(task[0]!.body)!.name;
    const use = blocks(r).find((b) => b.type === 'tool_use');
    expect(use, why(r, dump)).toMatchObject({ name: shellName, input: { command: 'echo tool-ran-ok' } });
    const res = blocks(r).find((b) => b.type === 'tool_result');
    expect(res).toMatchObject({ tool_use_id: use.id, is_error: false });
    expect(JSON.stringify(res.content)).toContain('tool-ran-ok');
    expect(result(r), why(r, dump)).toMatchObject({ is_error: false, result: 'The command printed: tool-ran-ok' });

    // Qwen -> cligate: the assistant tool_call and the tool message
    const calls = chatCalls(from);
    expect(calls.map((c) => c.status)).toEqual(calls.map(() => 200));
    const second = calls.find((c) => !isMemoryCall(c.body) && toolText(c.body) !== undefined)?.body;
    expect(second, dump).toBeDefined();
    const sent = (second.messages as any[]).find((m) => m.role === 'assistant' && m.tool_calls);
    expect(sent.tool_calls[0].function.name).toBe(shellName);
    expect((second.messages as any[]).find((m) => m.role === 'tool').tool_call_id).toBe(sent.tool_calls[0].id);

    // cligate -> upstream: the same, with the command's output in the tool message
    expect(task).toHaveLength(2);
    const up = task[1]!.body;
    const assistant = (up.messages as any[]).find((m) => m.role === 'assistant' && m.tool_calls);
    expect(assistant.tool_calls).toHaveLength(1);
    expect(assistant.tool_calls[0].function.name).toBe(shellName);
    expect(JSON.parse(assistant.tool_calls[0].function.arguments)).toMatchObject({ command: 'echo tool-ran-ok' });
    expect((up.messages as any[]).find((m) => m.role === 'tool').tool_call_id).toBe(assistant.tool_calls[0].id);
    expect(toolText(up)).toContain('tool-ran-ok');
    console.log(`[timing] qwen 0.24 -p, ${shellName} round trip via openai-compatible: ${r.ms} ms (${calls.length} calls)`);
  }, TEST_TIMEOUT);
});

describe('Qwen Code 0.24 -> cligate -> openai-compatible: images', () => {
  it('read_file on a PNG: Qwen adds the image as a user message, it reaches the upstream as an image part', async () => {
    upstream.setScript({
      reply: model((_user, body) => {
        if (imageParts(body).length) return 'I see a single pixel.';
        if (toolText(body) !== undefined) return `I see no image; the tool said: ${toolText(body)!.slice(0, 300)}`;
        return offers(body, 'read_file') ? '' : 'no read_file tool offered';
      }),
      toolCalls: (body) =>
        !isMemoryCall(body) && offers(body, 'read_file') && toolText(body) === undefined
          ? [{ name: 'read_file', arguments: JSON.stringify({ file_path: path.join(root, 'image', 'work', 'pixel.png') }) }]
          : undefined,
    });
    const from = tap.seen.length;
    const before = upstream.requests.length;
    const r = await qwen('image', 'look at the image pixel.png in the current directory and describe it', { model: CLAUDE, files: { 'pixel.png': PIXEL_PNG } });
    await answered(from);
    const dump = dumpUpstream(before);
    expect(r.run.exitCode, why(r, dump)).toBe(0);
    expect(result(r), why(r, dump)).toMatchObject({ is_error: false, result: 'I see a single pixel.' });

    // Qwen -> cligate: the tool answered with text, then a user message with the image (JPEG)
    const calls = chatCalls(from);
    expect(calls.map((c) => c.status)).toEqual(calls.map(() => 200));
    const back = calls.find((c) => !isMemoryCall(c.body) && toolText(c.body) !== undefined)!.body;
    const sent = imageParts(back);
    expect(sent, JSON.stringify(back.messages.slice(-2)).slice(0, 2000)).toHaveLength(1);
    expect(sent[0].image_url.url).toMatch(/^data:image\/(jpeg|png);base64,/);

    // cligate -> upstream: an image part carrying an image
    const task = taskCalls(before);
    expect(task).toHaveLength(2);
    const got = imageParts(task[1]!.body);
    expect(got, dump).toHaveLength(1);
    expect(String(got[0].image_url.url)).toMatch(/^data:image\/(jpeg|png|webp);base64,./);
    console.log(`[timing] qwen 0.24 -p, read_file on a PNG via openai-compatible: ${r.ms} ms (client sent ${String(sent[0].image_url.url).slice(0, 23)}…, upstream got ${String(got[0].image_url.url).slice(0, 23)}…)`);
  }, TEST_TIMEOUT);
});
