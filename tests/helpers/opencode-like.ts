/**
 * Kilo Code CLI (`kilo`, @kilocode/cli) and opencode (`opencode`, opencode-ai) as clients of cligate's
 * OpenAI chat surface. Kilo is a fork of opencode: both take the same config file and `run` command, and
 * both talk to cligate through their bundled @ai-sdk/openai-compatible provider, so one suite serves both.
 *
 * The configuration a user writes (verified by these tests), under HOME:
 *   ~/.config/<kilo|opencode>/<kilo|opencode>.json
 *   {"provider":{"cligate":{"npm":"@ai-sdk/openai-compatible","name":"cligate",
 *      "options":{"baseURL":"<cligate>/v1","apiKey":"<key>"},
 *      "models":{"<model>":{"name":"<model>","attachment":true,"modalities":{"input":["text","image"],"output":["text"]}}}}},
 *    "model":"cligate/<model>"}
 *   env KILO_DISABLE_AUTOUPDATE=1 KILO_DISABLE_MODELS_FETCH=1 (OPENCODE_… for opencode)
 *   <kilo|opencode> run -m cligate/<model> --format json [--auto] [--thinking] [-f pixel.png --] "<prompt>"
 * (without `attachment`/`modalities` an attached image becomes the text "ERROR: Cannot read …").
 */
import { describe, expect, it } from 'vitest';
import { execa, type Result } from 'execa';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { waitFor, type TestStack } from './server.js';
import { useClientStack, type Seen, type Tap } from './client-run.js';
import { ROOT } from './claude-env.js';
import { type FakeOpenAI } from '../fakes/openai.js';

export type OpencodeLike = 'kilo' | 'opencode';

export const OPENCODE_LIKE_BIN: Record<OpencodeLike, string> = {
  kilo: path.join(ROOT, 'node_modules', '.bin', 'kilo'),
  opencode: path.join(ROOT, 'node_modules', '.bin', 'opencode'),
};

/** a 1x1 PNG */
export const PIXEL_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==', 'base64');

/** the provider entry a user adds to ~/.config/<kind>/<kind>.json to put the client in front of cligate */
export function opencodeLikeConfig(baseUrl: string, key: string, model: string): object {
  return {
    provider: {
      cligate: {
        npm: '@ai-sdk/openai-compatible',
        name: 'cligate',
        options: { baseURL: `${baseUrl}/v1`, apiKey: key },
        models: { [model]: { name: model, attachment: true, modalities: { input: ['text', 'image'], output: ['text'] } } },
      },
    },
    model: `cligate/${model}`,
  };
}

export interface OpencodeLikeRun {
  run: Result;
  /** the --format json events, one a line */
  events: any[];
  /** the text parts of the run, in order */
  texts: string[];
  ms: number;
  cwd: string;
}

export interface RunOptions {
  kind: OpencodeLike;
  /** the throwaway root: HOME, TMPDIR and cwd of the run go under <root>/<name> */
  root: string;
  name: string;
  url: string;
  key: string;
  model: string;
  prompt: string;
  /** --auto: approve the bash tool */
  auto?: boolean;
  /** --thinking: show reasoning parts */
  thinking?: boolean;
  /** files written into the cwd, attached with -f */
  attach?: Record<string, Buffer>;
  timeoutMs?: number;
}

/** `<kind> run -m cligate/<model> --format json …` with a fresh HOME, TMPDIR and cwd, stdin closed, nothing inherited but PATH */
export async function opencodeLikeRun(o: RunOptions): Promise<OpencodeLikeRun> {
  const dir = path.join(o.root, o.name);
  const home = path.join(dir, 'home');
  const tmp = path.join(dir, 'tmp');
  const cwd = path.join(dir, 'work');
  for (const d of [home, tmp, cwd, path.join(home, '.config', o.kind)]) await mkdir(d, { recursive: true });
  await writeFile(path.join(home, '.config', o.kind, `${o.kind}.json`), JSON.stringify(opencodeLikeConfig(o.url, o.key, o.model), null, 2));
  const files: string[] = [];
  for (const [name, content] of Object.entries(o.attach ?? {})) {
    await writeFile(path.join(cwd, name), content);
    files.push('-f', path.join(cwd, name));
  }
  const upper = o.kind.toUpperCase();
  const args = [
    'run', '-m', `cligate/${o.model}`, '--format', 'json',
    ...(o.auto ? ['--auto'] : []),
    ...(o.thinking ? ['--thinking'] : []),
    // -f takes several files: `--` ends them before the prompt
    ...(files.length ? [...files, '--'] : []),
    o.prompt,
  ];
  const t0 = Date.now();
  const run = await execa(OPENCODE_LIKE_BIN[o.kind], args, {
    env: {
      HOME: home,
      TMPDIR: tmp,
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      LANG: 'C.UTF-8',
      [`${upper}_DISABLE_AUTOUPDATE`]: '1',
      [`${upper}_DISABLE_MODELS_FETCH`]: '1',
    },
    extendEnv: false,
    input: '',
    cwd,
    timeout: o.timeoutMs ?? 120_000,
    reject: false,
  });
  const ms = Date.now() - t0;
  const events: any[] = [];
  for (const line of String(run.stdout).split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      events.push(JSON.parse(line));
    } catch {
      // not an event: the assertions print stdout
    }
  }
  const texts = events.filter((e) => e.type === 'text').map((e) => String(e.part?.text ?? ''));
  return { run, events, texts, ms, cwd };
}

export const why = (r: OpencodeLikeRun, extra = '') =>
  `exit ${r.run.exitCode}${r.run.timedOut ? ' (timed out)' : ''}\nstderr: ${String(r.run.stderr).slice(-3000)}\nstdout: ${String(r.run.stdout).slice(-3000)}${extra}`;

export const textOf = (content: unknown): string =>
  typeof content === 'string' ? content : Array.isArray(content) ? content.map((p: any) => (p?.type === 'text' ? p.text : '')).join('') : '';

/** opencode's title call: no tools, a system prompt that asks for a title */
export const isTitleCall = (body: any) => textOf(body?.messages?.[0]?.content).includes('You are a title generator');
const offers = (body: any, name: string) => (body?.tools ?? []).some((t: any) => t.function?.name === name);
/** the last tool message's text in a chat-completions body */
export const toolText = (body: any): string | undefined => {
  const tool = ((body?.messages ?? []) as any[]).filter((m) => m.role === 'tool').at(-1);
  return tool ? textOf(tool.content) : undefined;
};
/** a chat-completions body's image parts */
export const imageParts = (body: any): any[] =>
  ((body?.messages ?? []) as any[]).flatMap((m) => (Array.isArray(m.content) ? m.content.filter((p: any) => p?.type === 'image_url') : []));

export interface SuiteSpec {
  kind: OpencodeLike;
  /** shown in test names */
  label: string;
  /** the client's own shell tool */
  shellTool: string;
  /** headers every request of this client carries (name -> value or pattern) */
  headers: Record<string, string | RegExp>;
  /** a title call (no tools, its own system prompt): 'first' made every time, sent with the task (either may arrive first); 'sometimes' in the background, racing the run's end */
  titleCall: 'first' | 'sometimes';
  /** per test (the client's own time per run plus the fake and cligate) */
  testTimeoutMs: number;
}

const KEY = 'sk-cligate-user';
/** a model only the OpenAI-compatible upstream serves */
const LOCAL = 'local-coder';
/**
 * a Claude model name, served by the OpenAI-compatible upstream too (an API provider is offered a bare
 * name before the claude CLI's pattern): with a claude-* model the client adds its non-standard
 * `cache_control` to messages, parts, tool_calls entries and tool messages, as in the recorded traffic
 */
const CLAUDE = 'claude-sonnet-4-5';

/** the suite: a prompt, reasoning, a bash round trip and an attached image, each through cligate -> openai-compatible -> the fake OpenAI */
export function opencodeLikeSuite(spec: SuiteSpec): void {
  let root: string;
  let upstream: FakeOpenAI;
  let stack: TestStack;
  let tap: Tap;

  useClientStack(spec.kind, { key: KEY, models: `${LOCAL},${CLAUDE}` }, (s) => ({ root, upstream, stack, tap } = s));

  /** a test with the client's time per run in its timeout */
  const test = (name: string, fn: () => Promise<void>) => it(name, fn, spec.testTimeoutMs);
  const run = (name: string, prompt: string, extra: Partial<RunOptions> = {}) =>
    opencodeLikeRun({ kind: spec.kind, root, name, url: tap.url, key: KEY, model: LOCAL, prompt, timeoutMs: spec.testTimeoutMs - 20_000, ...extra });
  const chatCalls = (from: number) => tap.seen.slice(from).filter((q) => q.method === 'POST' && q.path.split('?')[0] === '/v1/chat/completions');
  /** a background call the client made just before it exited may still be on its way: wait until cligate answered each */
  const answered = (from: number) => waitFor(() => chatCalls(from).every((c) => c.status !== undefined), 5000);
  const upstreamCalls = (from: number) => upstream.requests.slice(from).filter((q) => q.path.endsWith('/chat/completions'));
  /** the calls that carry the client's tools (not a title call) */
  const taskCalls = <T extends { body: any }>(calls: T[]): T[] => calls.filter((c) => (c.body?.tools ?? []).length > 0);
  const dumpUpstream = (from: number) =>
    `\nupstream saw: ${JSON.stringify(upstreamCalls(from).map((c) => ({ tools: (c.body.tools ?? []).length, last: c.body.messages.slice(-2) })), null, 1).slice(0, 5000)}`;
  /** the fake model: a title for a title call, else `task` */
  const model = (task: (userText: string, body: any) => string) => (userText: string, body: any) => (isTitleCall(body) ? 'A short title' : task(userText, body));
  const expectHeaders = (c: Seen) => {
    for (const [name, value] of Object.entries(spec.headers)) {
      if (typeof value === 'string') expect(c.headers[name], name).toBe(value);
      else expect(String(c.headers[name]), name).toMatch(value);
    }
  };

  describe(`${spec.label} -> cligate /v1/chat/completions -> openai-compatible`, () => {
    test('a prompt completes: the answer in its JSON events, the request streamed through cligate', async () => {
      upstream.setScript({ reply: model(() => 'pong from the local model'), usage: { prompt_tokens: 321, completion_tokens: 4 } });
      const from = tap.seen.length;
      const before = upstream.requests.length;
      const r = await run('prompt', 'say pong');
      await answered(from);
      expect(r.run.exitCode, why(r)).toBe(0);
      expect(r.texts, why(r)).toEqual(['pong from the local model']);
      const finish = r.events.filter((e) => e.type === 'step_finish').at(-1);
      expect(finish?.part).toMatchObject({ reason: 'stop' });
      // cligate's usage reached the client
      expect(finish.part.tokens).toMatchObject({ input: 321, output: 4 });

      // client -> cligate: streamed chat completions with the client's own extras, all answered 200
      const calls = chatCalls(from);
      const task = taskCalls(calls);
      expect(task).toHaveLength(1);
      // besides the task only title calls, without tools
      const side = calls.filter((c) => !task.includes(c));
      for (const c of side) expect(isTitleCall(c.body) && (c.body.tools ?? []).length === 0, JSON.stringify(c.body).slice(0, 500)).toBe(true);
      // the client sends its title call with the task, at once: it is always made, but which of the two reaches cligate first varies on a loaded machine
      if (spec.titleCall === 'first') expect(calls.some((c) => isTitleCall(c.body)), JSON.stringify(calls.map((c) => String(c.body.model)))).toBe(true);
      expect(calls.map((c) => c.status)).toEqual(calls.map(() => 200));
      const t = task[0]!;
      expect(t.headers.authorization).toBe(`Bearer ${KEY}`);
      expect(t.body).toMatchObject({ model: LOCAL, stream: true, stream_options: { include_usage: true }, max_tokens: 32000, tool_choice: 'auto' });
      expect((t.body.tools as any[]).map((x) => x.function.name)).toContain(spec.shellTool);
      expect(JSON.stringify(t.body.messages)).toContain('say pong');
      for (const c of calls) expectHeaders(c);
      expect(t.headers['x-session-affinity']).toBe(t.headers['x-session-id']);

      // cligate -> upstream
      const upTask = taskCalls(upstreamCalls(before));
      expect(upTask).toHaveLength(1);
      expect(upTask[0]!.body).toMatchObject({ model: LOCAL, stream: true });
      expect(JSON.stringify(upTask[0]!.body.messages)).toContain('say pong');
      console.log(`[timing] ${spec.kind} run (prompt) via openai-compatible: ${r.ms} ms (${calls.length} calls)`);
    });

    test('reasoning from the upstream comes out as a reasoning part (--thinking), the answer as text', async () => {
      upstream.setScript({ reasoning: 'weighing the options carefully', reply: model(() => 'the considered answer') });
      const r = await run('thinking', 'think, then answer', { thinking: true });
      expect(r.run.exitCode, why(r)).toBe(0);
      const reasoning = r.events.filter((e) => e.type === 'reasoning').map((e) => e.part?.text ?? '');
      expect(reasoning.join(''), why(r)).toContain('weighing the options carefully');
      expect(r.texts).toEqual(['the considered answer']);
      console.log(`[timing] ${spec.kind} run --thinking via openai-compatible: ${r.ms} ms`);
    });
  });

  describe(`${spec.label} -> cligate -> openai-compatible (${CLAUDE}): a ${spec.shellTool} round trip`, () => {
    test(`the model calls ${spec.shellTool}, the client runs it and sends the result back, the model answers from it`, async () => {
      upstream.setScript({
        // reasoning too, as reasoning models send it
        reasoning: 'thinking about tool-use',
        reply: model((_user, body) => {
          const out = toolText(body);
          if (out !== undefined) return out.includes('tool-ran-ok') ? 'The command printed: tool-ran-ok' : `The command failed: ${out.slice(0, 300)}`;
          return offers(body, spec.shellTool) ? '' : `no ${spec.shellTool} tool offered`;
        }),
        toolCalls: (body) =>
          offers(body, spec.shellTool) && toolText(body) === undefined
            ? [{ name: spec.shellTool, arguments: JSON.stringify({ command: 'echo tool-ran-ok', description: 'x' }) }]
            : undefined,
      });
      const from = tap.seen.length;
      const before = upstream.requests.length;
      const r = await run('tool', 'run echo tool-ran-ok', { auto: true, model: CLAUDE });
      await answered(from);
      const dump = dumpUpstream(before);
      expect(r.run.exitCode, why(r, dump)).toBe(0);

      // the client: the tool ran, then the final answer
      const use = r.events.find((e) => e.type === 'tool_use');
      expect(use?.part, why(r, dump)).toMatchObject({ tool: spec.shellTool, callID: 'call_fake_0', state: { status: 'completed', input: { command: 'echo tool-ran-ok' } } });
      expect(use.part.state.output).toContain('tool-ran-ok');
      expect(r.texts.at(-1), why(r, dump)).toBe('The command printed: tool-ran-ok');

      // client -> cligate: the assistant tool call and the tool message with the output
      const task = taskCalls(chatCalls(from));
      expect(task.length, dump).toBeGreaterThanOrEqual(2);
      expect(task.map((c) => c.status)).toEqual(task.map(() => 200));
      const back = task.find((c) => toolText(c.body) !== undefined)?.body;
      expect(back, dump).toBeDefined();
      const sent = (back.messages as any[]).find((m) => m.role === 'assistant' && m.tool_calls);
      expect(sent.tool_calls[0]).toMatchObject({ id: 'call_fake_0', function: { name: spec.shellTool } });
      expect((back.messages as any[]).find((m) => m.role === 'tool').tool_call_id).toBe('call_fake_0');
      expect(toolText(back)).toContain('tool-ran-ok');
      // with a claude-* model: the non-standard cache_control on the tool_calls entry and on the tool message (accepted: 200 above)
      expect(sent.tool_calls[0].cache_control).toEqual({ type: 'ephemeral' });
      expect((back.messages as any[]).find((m) => m.role === 'tool').cache_control).toEqual({ type: 'ephemeral' });
      expect(back).toMatchObject({ model: CLAUDE, max_tokens: 32000 });

      // cligate -> upstream: the same, the command's output in the tool message
      const upTask = taskCalls(upstreamCalls(before));
      expect(upTask.length, dump).toBe(task.length);
      const up = upTask.find((c) => toolText(c.body) !== undefined)!.body;
      const assistant = (up.messages as any[]).find((m) => m.role === 'assistant' && m.tool_calls);
      expect(assistant.tool_calls).toHaveLength(1);
      expect(assistant.tool_calls[0].function.name).toBe(spec.shellTool);
      expect(JSON.parse(assistant.tool_calls[0].function.arguments)).toMatchObject({ command: 'echo tool-ran-ok' });
      const tool = (up.messages as any[]).find((m) => m.role === 'tool');
      expect(tool.tool_call_id).toBe(assistant.tool_calls[0].id);
      expect(toolText(up)).toContain('tool-ran-ok');
      console.log(`[timing] ${spec.kind} run --auto, ${spec.shellTool} round trip via openai-compatible: ${r.ms} ms (${chatCalls(from).length} calls)`);
    });
  });

  describe(`${spec.label} -> cligate -> openai-compatible (${CLAUDE}): images`, () => {
    test('an image attached with -f pixel.png reaches the upstream as an image part', async () => {
      upstream.setScript({
        reply: model((_user, body) => (imageParts(body).length ? 'I see a single pixel.' : 'I see no image.')),
      });
      const from = tap.seen.length;
      const before = upstream.requests.length;
      const r = await run('image', 'Describe the attached image in one sentence.', { attach: { 'pixel.png': PIXEL_PNG }, model: CLAUDE });
      await answered(from);
      expect(r.run.exitCode, why(r)).toBe(0);
      expect(r.texts, why(r, dumpUpstream(before))).toEqual(['I see a single pixel.']);

      // client -> cligate: the PNG as a data URL in the user turn
      const task = taskCalls(chatCalls(from));
      expect(task).toHaveLength(1);
      const sent = imageParts(task[0]!.body);
      expect(sent).toHaveLength(1);
      expect(sent[0].image_url.url).toBe(`data:image/png;base64,${PIXEL_PNG.toString('base64')}`);

      // cligate -> upstream: an image part carrying an image
      const upTask = taskCalls(upstreamCalls(before));
      expect(upTask).toHaveLength(1);
      const got = imageParts(upTask[0]!.body);
      expect(got, dumpUpstream(before)).toHaveLength(1);
      const url = String(got[0].image_url.url);
      expect(url).toMatch(/^data:image\/(png|jpeg|webp);base64,/);
      if (url.startsWith('data:image/png;')) expect(Buffer.from(url.split(',')[1]!, 'base64').equals(PIXEL_PNG)).toBe(true);
      console.log(`[timing] ${spec.kind} run -f pixel.png via openai-compatible: ${r.ms} ms (upstream got ${url.slice(0, 23)}…, ${url.length} characters)`);
    });
  });
}
