/**
 * Gemini CLI (the real `gemini` 0.61.x) as a client of cligate's Gemini surface
 * (POST /v1beta/models/<model>:streamGenerateContent?alt=sse), configured exactly as a user would:
 *   $HOME/.gemini/settings.json  {"security":{"auth":{"selectedType":"gemini-api-key"}}}
 *   GOOGLE_GEMINI_BASE_URL=<cligate>  GEMINI_API_KEY=<cligate key>  GEMINI_CLI_TRUST_WORKSPACE=true
 *   gemini -p "<prompt>" -m local-coder --approval-mode yolo -o json|stream-json
 * The model is served by cligate's openai-compatible provider (the fake OpenAI, chat completions).
 *
 * - a prompt completes (streamed deltas in stream-json, token stats in json);
 * - tool round trips with Gemini CLI's own tools (run_shell_command, read_file as declared in the request
 *   the upstream receives): the CLI runs them and sends the functionResponse back through cligate;
 * - an image attached with `@pixel.png` reaches the upstream as an image part;
 * - reasoning from the upstream reaches the CLI as thought parts, not as answer text.
 * Each run has its own HOME and cwd under the OS temp dir; no process may outlive a test.
 */
import { describe, expect, it } from 'vitest';
import { execa, type Result } from 'execa';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type TestStack } from '../helpers/server.js';
import { useClientStack, type Tap } from '../helpers/client-run.js';
import { GEMINI_BIN } from '../helpers/claude-env.js';
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

useClientStack('gemini', { key: KEY, models: LOCAL }, (s) => ({ root, upstream, stack, tap } = s));

interface GeminiRun {
  run: Result;
  /** Date.now() when the client started */
  t0: number;
  /** -o stream-json: the events; -o json: the one object in [0] */
  events: any[];
  cwd: string;
  ms: number;
}

/** a fresh HOME (with the settings.json a user writes) and working directory, with `files` in it */
async function sandbox(name: string, files: Record<string, string | Buffer> = {}): Promise<{ home: string; cwd: string }> {
  const home = path.join(root, name, 'home');
  const cwd = path.join(root, name, 'work');
  await mkdir(path.join(home, '.gemini'), { recursive: true });
  await mkdir(cwd, { recursive: true });
  await writeFile(path.join(home, '.gemini', 'settings.json'), JSON.stringify({ security: { auth: { selectedType: 'gemini-api-key' } } }));
  for (const [file, content] of Object.entries(files)) await writeFile(path.join(cwd, file), content);
  return { home, cwd };
}

/** `gemini -p <prompt> -m local-coder --approval-mode yolo -o <format>` against cligate (through the tap) */
async function gemini(name: string, prompt: string, opts: { format?: 'json' | 'stream-json'; files?: Record<string, string | Buffer> } = {}): Promise<GeminiRun> {
  const { home, cwd } = await sandbox(name, opts.files);
  const format = opts.format ?? 'stream-json';
  const t0 = Date.now();
  const run = await execa(GEMINI_BIN, ['-p', prompt, '-m', LOCAL, '--approval-mode', 'yolo', '-o', format], {
    env: {
      HOME: home,
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      GOOGLE_GEMINI_BASE_URL: tap.url,
      GEMINI_API_KEY: KEY,
      GEMINI_CLI_TRUST_WORKSPACE: 'true',
    },
    extendEnv: false,
    input: '',
    cwd,
    timeout: 120_000,
    reject: false,
  });
  const ms = Date.now() - t0;
  const stdout = String(run.stdout);
  let events: any[] = [];
  try {
    events = format === 'json' ? [JSON.parse(stdout)] : stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  } catch {
    // left empty: the assertions print stdout
  }
  return { run, events, cwd, ms, t0 };
}

/** when each client call of a run arrived and ended, relative to the client's start: where the wall time goes */
const timeline = (r: { t0: number; ms: number }) =>
  tap.seen
    .filter((q) => q.at >= r.t0 && q.at <= r.t0 + r.ms)
    .map((q) => `${q.method} ${q.path.split('?')[0]} ${q.status ?? '-'} +${q.at - r.t0}..+${(q.end ?? q.at) - r.t0} ms`)
    .join('; ');
const why = (r: GeminiRun, extra = '') => `exit ${r.run.exitCode}\nstderr: ${String(r.run.stderr).slice(-3000)}\nstdout: ${String(r.run.stdout).slice(-3000)}${extra}`;
const generateCalls = (from: number) => tap.seen.slice(from).filter((q) => q.method === 'POST' && /:(stream)?[gG]enerateContent/.test(q.path));
const chatCalls = (from: number) => upstream.requests.slice(from).filter((q) => q.path.endsWith('/chat/completions'));
/** the assistant's streamed text in stream-json output */
const answer = (events: any[]) => events.filter((e) => e.type === 'message' && e.role === 'assistant').map((e) => e.content).join('');
const textOf = (content: unknown): string =>
  typeof content === 'string' ? content : Array.isArray(content) ? content.map((p: any) => (p?.type === 'text' ? p.text : '')).join('') : '';
/** the last tool message's text in a chat-completions body */
const toolText = (body: any): string | undefined => {
  const tool = (body.messages as any[]).filter((m) => m.role === 'tool').at(-1);
  return tool ? textOf(tool.content) : undefined;
};
/** the declared schema of a tool the upstream was offered */
const declared = (body: any, name: string): any => (body.tools ?? []).find((t: any) => t.function?.name === name)?.function;

describe('Gemini CLI -> cligate /v1beta (Gemini API) -> openai-compatible', () => {
  it('a prompt completes, streamed (stream-json)', async () => {
    upstream.setScript({ reply: 'pong from the local model, in several pieces' });
    const from = tap.seen.length;
    const before = upstream.requests.length;
    const r = await gemini('prompt-stream', 'say pong');
    expect(r.run.exitCode, why(r)).toBe(0);
    const deltas = r.events.filter((e) => e.type === 'message' && e.role === 'assistant');
    expect(deltas.length, why(r)).toBeGreaterThan(1);
    expect(answer(r.events)).toBe('pong from the local model, in several pieces');
    expect(r.events.at(-1)).toMatchObject({ type: 'result', status: 'success' });
    expect(r.events.at(-1).stats.output_tokens).toBeGreaterThan(0);

    const calls = generateCalls(from);
    expect(calls.length).toBe(1);
    expect(calls[0]!.path).toBe(`/v1beta/models/${LOCAL}:streamGenerateContent?alt=sse`);
    expect(calls[0]!.headers['x-goog-api-key']).toBe(KEY);
    expect(calls[0]!.status).toBe(200);
    const chats = chatCalls(before);
    expect(chats).toHaveLength(1);
    expect(chats[0]!.body).toMatchObject({ model: LOCAL, stream: true });
    // Gemini CLI's own tools, offered to the model as functions
    expect(chats[0]!.body.tools.map((t: any) => t.function.name)).toEqual(expect.arrayContaining(['run_shell_command', 'read_file']));
    console.log(`[timing] gemini -p (stream-json) via openai-compatible: ${r.ms} ms [${timeline(r)}]`);
  });

  it('a prompt completes (-o json) with token stats', async () => {
    upstream.setScript({ reply: 'pong as json', usage: { prompt_tokens: 120, completion_tokens: 3 } });
    const r = await gemini('prompt-json', 'say pong', { format: 'json' });
    expect(r.run.exitCode, why(r)).toBe(0);
    const out = r.events[0];
    expect(out?.response, why(r)).toBe('pong as json');
    expect(out.stats.models[LOCAL].tokens).toMatchObject({ prompt: 120, candidates: 3 });
    console.log(`[timing] gemini -p (json) via openai-compatible: ${r.ms} ms [${timeline(r)}]`);
  });
});

describe('Gemini CLI -> cligate -> openai-compatible: tool round trips with its own tools', () => {
  it('run_shell_command: the CLI runs it, the functionResponse goes back through cligate, the model answers from it', async () => {
    upstream.setScript({
      reply: (_user, body) => {
        const out = toolText(body);
        if (out !== undefined) return out.includes('tool-ran-ok') ? 'The command printed: tool-ran-ok' : `The command failed: ${out.slice(0, 300)}`;
        // a preamble before the call, as models write one
        return declared(body, 'run_shell_command')?.parameters?.properties?.command ? 'I will run it. ' : 'run_shell_command was not offered';
      },
      toolCalls: (body) =>
        declared(body, 'run_shell_command')?.parameters?.properties?.command && toolText(body) === undefined
          ? [{ name: 'run_shell_command', arguments: JSON.stringify({ command: 'echo tool-ran-ok' }) }]
          : undefined,
    });
    const from = tap.seen.length;
    const before = upstream.requests.length;
    const r = await gemini('tool-shell', 'run echo tool-ran-ok');
    const chats = chatCalls(before);
    const dump = `\nupstream saw: ${JSON.stringify(chats.map((c) => c.body.messages.slice(-2)), null, 1).slice(0, 4000)}`;
    expect(r.run.exitCode, why(r, dump)).toBe(0);

    // the CLI: the tool ran, then the final answer
    const use = r.events.find((e) => e.type === 'tool_use');
    expect(use, why(r, dump)).toMatchObject({ tool_name: 'run_shell_command', parameters: { command: 'echo tool-ran-ok' } });
    const result = r.events.find((e) => e.type === 'tool_result');
    expect(result).toMatchObject({ tool_id: use.tool_id, status: 'success' });
    expect(result.output).toContain('tool-ran-ok');
    expect(answer(r.events)).toBe('I will run it. The command printed: tool-ran-ok');
    expect(r.events.at(-1)).toMatchObject({ type: 'result', status: 'success', stats: { tool_calls: 1 } });

    // Gemini CLI -> cligate: the functionCall (model turn) and its functionResponse (user turn)
    const calls = generateCalls(from);
    expect(calls).toHaveLength(2);
    const contents = calls[1]!.body.contents as any[];
    const call = contents.flatMap((c) => (c.role === 'model' ? c.parts : [])).find((p: any) => p.functionCall)?.functionCall;
    const response = contents.flatMap((c) => (c.role === 'user' ? c.parts : [])).find((p: any) => p.functionResponse)?.functionResponse;
    expect(call).toMatchObject({ name: 'run_shell_command', args: { command: 'echo tool-ran-ok' } });
    expect(contents.flatMap((c) => (c.role === 'model' ? c.parts : [])).map((p: any) => p.text ?? '').join('')).toContain('I will run it.');
    expect(response).toMatchObject({ name: 'run_shell_command' });
    if (call.id !== undefined || response.id !== undefined) expect(response.id).toBe(call.id);
    expect(JSON.stringify(response.response)).toContain('tool-ran-ok');

    // cligate -> upstream: an assistant tool_call, then a tool message with the output
    expect(chats).toHaveLength(2);
    const second = chats[1]!.body;
    const assistant = (second.messages as any[]).find((m) => m.role === 'assistant' && m.tool_calls);
    expect(assistant.tool_calls).toHaveLength(1);
    expect(textOf(assistant.content)).toBe('I will run it. ');
    expect(assistant.tool_calls[0].function.name).toBe('run_shell_command');
    expect(JSON.parse(assistant.tool_calls[0].function.arguments)).toEqual({ command: 'echo tool-ran-ok' });
    const tool = (second.messages as any[]).find((m) => m.role === 'tool');
    expect(tool.tool_call_id).toBe(assistant.tool_calls[0].id);
    expect(toolText(second)).toContain('tool-ran-ok');
    console.log(`[timing] gemini -p, run_shell_command round trip via openai-compatible: ${r.ms} ms [${timeline(r)}]`);
  });

  it('read_file of a file in the cwd: its content (a marker) reaches the upstream in the tool message', async () => {
    const marker = 'marker-7f3a-gemini-notes';
    upstream.setScript({
      reply: (_user, body) => {
        const out = toolText(body);
        if (out !== undefined) return out.includes(marker) ? `The file says ${marker}.` : `I could not read it: ${out.slice(0, 300)}`;
        return declared(body, 'read_file')?.parameters?.properties?.file_path ? '' : 'read_file was not offered';
      },
      toolCalls: (body) =>
        declared(body, 'read_file')?.parameters?.properties?.file_path && toolText(body) === undefined
          ? [{ name: 'read_file', arguments: JSON.stringify({ file_path: 'notes.txt' }) }]
          : undefined,
    });
    const before = upstream.requests.length;
    const r = await gemini('tool-read', 'what does notes.txt say?', { files: { 'notes.txt': `${marker}\n` } });
    const chats = chatCalls(before);
    expect(r.run.exitCode, why(r)).toBe(0);
    expect(r.events.find((e) => e.type === 'tool_use')).toMatchObject({ tool_name: 'read_file', parameters: { file_path: 'notes.txt' } });
    expect(r.events.find((e) => e.type === 'tool_result')).toMatchObject({ status: 'success' });
    expect(answer(r.events)).toBe(`The file says ${marker}.`);
    expect(chats).toHaveLength(2);
    expect(toolText(chats[1]!.body)).toContain(marker);
    console.log(`[timing] gemini -p, read_file round trip via openai-compatible: ${r.ms} ms [${timeline(r)}]`);
  });
});

describe('Gemini CLI -> cligate -> openai-compatible: two tool calls in one turn', () => {
  it('each functionResponse goes back to the upstream as the tool message of its own call', async () => {
    const tools = (body: any) => (body.messages as any[]).filter((m) => m.role === 'tool');
    upstream.setScript({
      reply: (_user, body) => (tools(body).length ? `Both ran: ${tools(body).length} results.` : ''),
      toolCalls: (body) =>
        declared(body, 'run_shell_command') && !tools(body).length
          ? [
              { name: 'run_shell_command', arguments: JSON.stringify({ command: 'echo first-ok' }) },
              { name: 'run_shell_command', arguments: JSON.stringify({ command: 'echo second-ok' }) },
            ]
          : undefined,
    });
    const from = tap.seen.length;
    const before = upstream.requests.length;
    const r = await gemini('tool-parallel', 'run two commands');
    const chats = chatCalls(before);
    const dump = `\nupstream saw: ${JSON.stringify(chats.map((c) => c.body.messages.slice(-3)), null, 1).slice(0, 4000)}`;
    expect(r.run.exitCode, why(r, dump)).toBe(0);
    expect(r.events.filter((e) => e.type === 'tool_use').map((e) => e.parameters.command)).toEqual(['echo first-ok', 'echo second-ok']);
    expect(r.events.filter((e) => e.type === 'tool_result').map((e) => e.status)).toEqual(['success', 'success']);
    expect(answer(r.events)).toBe('Both ran: 2 results.');

    // Gemini CLI -> cligate: two functionResponses, matched to their calls by id
    const contents = generateCalls(from)[1]!.body.contents as any[];
    const responses = contents.flatMap((c) => c.parts).filter((p: any) => p.functionResponse).map((p: any) => p.functionResponse);
    expect(responses).toHaveLength(2);

    // cligate -> upstream: two tool_calls, two tool messages, each output under its own call's id
    expect(chats).toHaveLength(2);
    const up = chats[1]!.body;
    const assistant = (up.messages as any[]).find((m) => m.role === 'assistant' && m.tool_calls);
    expect(assistant.tool_calls).toHaveLength(2);
    const byId = new Map(tools(up).map((m: any) => [m.tool_call_id, textOf(m.content)]));
    expect(byId.size, dump).toBe(2);
    for (const call of assistant.tool_calls) {
      const { command } = JSON.parse(call.function.arguments) as { command: string };
      expect(byId.get(call.id), `${call.id} ${command}${dump}`).toContain(command.replace('echo ', ''));
    }
    console.log(`[timing] gemini -p, two run_shell_command calls in one turn via openai-compatible: ${r.ms} ms [${timeline(r)}]`);
  });
});

describe('Gemini CLI -> cligate -> openai-compatible: images and thinking', () => {
  it('an image attached with @pixel.png reaches the upstream as an image part', async () => {
    upstream.setScript({
      reply: (_user, body) => {
        const user = (body.messages as any[]).filter((m) => m.role === 'user').at(-1);
        const image = Array.isArray(user?.content) && user.content.some((p: any) => p.type === 'image_url');
        return image ? 'I see a single pixel.' : 'I see no image.';
      },
    });
    const from = tap.seen.length;
    const before = upstream.requests.length;
    const r = await gemini('image', 'describe @pixel.png', { files: { 'pixel.png': Buffer.from(PIXEL, 'base64') } });
    expect(r.run.exitCode, why(r)).toBe(0);
    expect(answer(r.events)).toBe('I see a single pixel.');

    // Gemini CLI -> cligate: inlineData
    const calls = generateCalls(from);
    const inline = (calls[0]!.body.contents as any[]).flatMap((c) => c.parts).find((p: any) => p.inlineData)?.inlineData;
    expect(inline).toMatchObject({ mimeType: 'image/png' });
    // cligate -> upstream: an image_url part carrying the picture
    const chats = chatCalls(before);
    expect(chats).toHaveLength(1);
    const user = (chats[0]!.body.messages as any[]).filter((m) => m.role === 'user').at(-1);
    const image = (user.content as any[]).find((p) => p.type === 'image_url');
    expect(image?.image_url.url).toMatch(/^data:image\/png;base64,/);
    expect(Buffer.from(image.image_url.url.split(',')[1], 'base64').subarray(0, 8)).toEqual(Buffer.from(PIXEL, 'base64').subarray(0, 8));
    console.log(`[timing] gemini -p with @pixel.png via openai-compatible: ${r.ms} ms [${timeline(r)}]`);
  });

  it('reasoning from the upstream reaches the CLI as thought parts, the answer is only the text', async () => {
    upstream.setScript({ reasoning: 'weighing the options carefully', reply: 'the considered answer' });
    const from = tap.seen.length;
    const r = await gemini('thinking', 'think, then answer', { format: 'json' });
    expect(r.run.exitCode, why(r)).toBe(0);
    expect(r.events[0]?.response, why(r)).toBe('the considered answer');
    const calls = generateCalls(from);
    expect(calls).toHaveLength(1);
    const parts = calls[0]!.response
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .flatMap((l) => JSON.parse(l.slice(6)).candidates?.[0]?.content?.parts ?? []);
    const thought = parts.filter((p: any) => p.thought === true).map((p: any) => p.text).join('');
    expect(thought).toBe('weighing the options carefully');
    expect(parts.filter((p: any) => !p.thought).map((p: any) => p.text ?? '').join('')).toBe('the considered answer');
    console.log(`[timing] gemini -p with reasoning via openai-compatible: ${r.ms} ms [${timeline(r)}]`);
  });
});
