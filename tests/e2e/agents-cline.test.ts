/**
 * Cline CLI (the real `cline` 3.x, headless, NDJSON events) as a client of cligate, configured as a user would:
 *
 * - OpenAI-compatible provider -> cligate's /v1/chat/completions:
 *     cline auth -p openai-compatible -k <cligate key> -m local-coder -b <cligate>/v1 [--data-dir <dir>]
 *     cline [--data-dir <dir>] --json -c <workdir> "<task>"
 * - Anthropic provider -> cligate's /v1/messages. Cline 3.0.65 refuses `-b` for anthropic ("base URL is only
 *   supported for OpenAI and OpenAI-compatible providers") and ignores ANTHROPIC_BASE_URL, so the user runs
 *     cline auth -p anthropic -k <cligate key> -m local-coder [--data-dir <dir>]
 *   and adds "baseUrl": "<cligate>/v1" to providers.anthropic.settings in <data-dir>/settings/providers.json
 *   (~/.cline/data/settings/providers.json by default); Cline then POSTs <baseUrl>/messages.
 *
 * The model is served by cligate's openai-compatible provider (the fake OpenAI). In both modes: a prompt
 * completes, and a run_commands round trip (the tool as declared in the request the upstream receives):
 * Cline runs the command, sends the result back through cligate, the model answers and Cline ends the task.
 * Each run has its own HOME, data dir and cwd under the OS temp dir; no process may outlive a test.
 */
import { describe, expect, it } from 'vitest';
import { execa, type Result } from 'execa';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type TestStack } from '../helpers/server.js';
import { useClientStack, type Tap } from '../helpers/client-run.js';
import { ROOT } from '../helpers/claude-env.js';
import { type FakeOpenAI } from '../fakes/openai.js';

const CLINE = path.join(ROOT, 'node_modules', '.bin', 'cline');
const KEY = 'sk-cligate-user';
/** a model only the OpenAI-compatible upstream serves */
const LOCAL = 'local-coder';

let root: string;
let upstream: FakeOpenAI;
let stack: TestStack;
let tap: Tap;

useClientStack('cline', { key: KEY, models: LOCAL }, (s) => ({ root, upstream, stack, tap } = s));

type Mode = 'openai-compatible' | 'anthropic';

interface ClineRun {
  run: Result;
  /** Date.now() when the client started */
  t0: number;
  /** the NDJSON lines of --json */
  events: any[];
  ms: number;
}

/** `cline auth …` then `cline --data-dir <dir> --json -c <work> <task>`, with a fresh HOME, data dir and cwd */
async function cline(name: string, mode: Mode, task: string): Promise<ClineRun> {
  const home = path.join(root, name, 'home');
  const data = path.join(root, name, 'data');
  const work = path.join(root, name, 'work');
  await mkdir(home, { recursive: true });
  await mkdir(work, { recursive: true });
  const env = { HOME: home, PATH: process.env.PATH ?? '/usr/bin:/bin', CLINE_SESSION_BACKEND_MODE: 'local', CLINE_NO_AUTO_UPDATE: '1' };
  const opts = { cwd: work, env, extendEnv: false, reject: false, input: '', timeout: 180_000 } as const;
  const auth =
    mode === 'openai-compatible'
      ? await execa(CLINE, ['auth', '-p', 'openai-compatible', '-k', KEY, '-m', LOCAL, '-b', `${tap.url}/v1`, '--data-dir', data], opts)
      : await execa(CLINE, ['auth', '-p', 'anthropic', '-k', KEY, '-m', LOCAL, '--data-dir', data], opts);
  expect(auth.exitCode, `${auth.stdout}\n${auth.stderr}`).toBe(0);
  if (mode === 'anthropic') {
    // the one step `cline auth` does not do for anthropic: the base URL, in the provider settings file
    const file = path.join(data, 'settings', 'providers.json');
    const settings = JSON.parse(await readFile(file, 'utf8'));
    settings.providers.anthropic.settings.baseUrl = `${tap.url}/v1`;
    await writeFile(file, JSON.stringify(settings, null, 2));
  }
  const t0 = Date.now();
  const run = await execa(CLINE, ['--data-dir', data, '--json', '-c', work, task], opts);
  const ms = Date.now() - t0;
  const events = String(run.stdout)
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
  return { run, events, ms, t0 };
}

/** when each client call of a run arrived and ended, relative to the client's start: where the wall time goes */
const timeline = (r: { t0: number; ms: number }) =>
  tap.seen
    .filter((q) => q.at >= r.t0 && q.at <= r.t0 + r.ms)
    .map((q) => `${q.method} ${q.path.split('?')[0]} ${q.status ?? '-'} +${q.at - r.t0}..+${(q.end ?? q.at) - r.t0} ms`)
    .join('; ');
const why = (r: ClineRun, extra = '') =>
  `exit ${r.run.exitCode}\nstderr: ${String(r.run.stderr).split('\n').filter((l) => !/^\s+at |Deprecat|AI SDK Warning/.test(l)).join('\n').slice(-3000)}\nstdout: ${String(r.run.stdout).slice(-4000)}${extra}`;
const textOf = (content: unknown): string =>
  typeof content === 'string' ? content : Array.isArray(content) ? content.map((p: any) => (p?.type === 'text' ? p.text : '')).join('') : '';
const clientCalls = (from: number, mode: Mode) =>
  tap.seen.slice(from).filter((q) => q.method === 'POST' && q.path.split('?')[0] === (mode === 'anthropic' ? '/v1/messages' : '/v1/chat/completions'));
const chatCalls = (from: number) => upstream.requests.slice(from).filter((q) => q.path.endsWith('/chat/completions'));
/** the last tool message's text in a chat-completions body */
const toolText = (body: any): string | undefined => {
  const tool = (body.messages as any[]).filter((m) => m.role === 'tool').at(-1);
  return tool ? textOf(tool.content) : undefined;
};
/** Cline's command tool as the upstream sees it declared */
const commandTool = (body: any): any => (body.tools ?? []).map((t: any) => t.function).find((f: any) => f?.name === 'run_commands' && f.parameters?.properties?.commands);
const done = (r: ClineRun) => r.events.find((e) => e.type === 'agent_event' && e.event?.type === 'done')?.event;
const runResult = (r: ClineRun) => r.events.find((e) => e.type === 'run_result');

for (const mode of ['openai-compatible', 'anthropic'] as const) {
  const surface = mode === 'anthropic' ? '/v1/messages' : '/v1/chat/completions';
  describe(`Cline (-p ${mode}) -> cligate ${surface} -> openai-compatible`, () => {
    it('a prompt completes, streamed, with usage', async () => {
      upstream.setScript({ reply: 'pong from the local model', usage: { prompt_tokens: 210, completion_tokens: 5 } });
      const from = tap.seen.length;
      const before = upstream.requests.length;
      const r = await cline(`${mode}-prompt`, mode, 'say pong');
      expect(r.run.exitCode, why(r)).toBe(0);
      expect(done(r), why(r)).toMatchObject({ reason: 'completed', text: 'pong from the local model', iterations: 1 });
      expect(runResult(r)).toMatchObject({ finishReason: 'completed', usage: { inputTokens: 210, outputTokens: 5 } });
      const pieces = r.events.filter((e) => e.event?.type === 'content_start' && e.event.contentType === 'text');
      expect(pieces.length, why(r)).toBeGreaterThan(1);

      const calls = clientCalls(from, mode);
      expect(calls, JSON.stringify(tap.seen.slice(from).map((q) => `${q.method} ${q.path} ${q.status}`))).toHaveLength(1);
      expect(calls[0]!.status).toBe(200);
      expect(calls[0]!.body).toMatchObject({ model: LOCAL, stream: true });
      if (mode === 'anthropic') expect(calls[0]!.headers['x-api-key']).toBe(KEY);
      else expect(calls[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
      const chats = chatCalls(before);
      expect(chats).toHaveLength(1);
      expect(chats[0]!.body).toMatchObject({ model: LOCAL, stream: true });
      expect(textOf((chats[0]!.body.messages as any[]).at(-1).content)).toContain('say pong');
      console.log(`[timing] cline (${mode}) prompt via openai-compatible: ${r.ms} ms [${timeline(r)}]`);
    });

    it('a run_commands round trip: Cline runs the command, the result goes back through cligate, Cline finishes', async () => {
      upstream.setScript({
        reasoning: 'the user wants a command run',
        reply: (_user, body) => {
          const out = toolText(body);
          if (out !== undefined) return out.includes('tool-ran-ok') ? 'The command printed: tool-ran-ok' : `The command failed: ${out.slice(0, 300)}`;
          // a preamble before the call, as models write one
          return commandTool(body) ? 'I will run it. ' : 'run_commands was not offered';
        },
        toolCalls: (body) => (commandTool(body) && toolText(body) === undefined ? [{ name: 'run_commands', arguments: JSON.stringify({ commands: ['echo tool-ran-ok'] }) }] : undefined),
      });
      const from = tap.seen.length;
      const before = upstream.requests.length;
      const r = await cline(`${mode}-tool`, mode, 'run echo tool-ran-ok');
      const chats = chatCalls(before);
      const dump = `\nupstream saw: ${JSON.stringify(chats.map((c) => c.body.messages.slice(-2)), null, 1).slice(0, 4000)}\ncligate answered: ${clientCalls(from, mode).map((c) => `${c.status} ${c.response.slice(0, 1500)}`).join('\n---\n')}`;
      expect(r.run.exitCode, why(r, dump)).toBe(0);

      // Cline: the tool call, its output, the reasoning shown, then the final answer
      const start = r.events.find((e) => e.event?.type === 'content_start' && e.event.contentType === 'tool');
      expect(start?.event, why(r, dump)).toMatchObject({ toolName: 'run_commands', input: { commands: ['echo tool-ran-ok'] } });
      const end = r.events.find((e) => e.event?.type === 'content_end' && e.event.contentType === 'tool');
      expect(end.event.toolCallId).toBe(start.event.toolCallId);
      expect(JSON.stringify(end.event.output)).toContain('tool-ran-ok');
      const reasoning = r.events.find((e) => e.event?.type === 'content_end' && e.event.contentType === 'reasoning');
      expect(reasoning?.event.reasoning).toBe('the user wants a command run');
      expect(done(r), why(r, dump)).toMatchObject({ reason: 'completed', text: 'The command printed: tool-ran-ok', iterations: 2 });
      expect(runResult(r)).toMatchObject({ finishReason: 'completed' });

      // Cline -> cligate: the call and its result in the second request
      const calls = clientCalls(from, mode);
      expect(calls.map((c) => c.status), dump).toEqual([200, 200]);
      const second = calls[1]!.body;
      if (mode === 'anthropic') {
        const use = (second.messages as any[]).flatMap((m) => (m.role === 'assistant' && Array.isArray(m.content) ? m.content : [])).find((b: any) => b.type === 'tool_use');
        const res = (second.messages as any[]).flatMap((m) => (m.role === 'user' && Array.isArray(m.content) ? m.content : [])).find((b: any) => b.type === 'tool_result');
        expect(use).toMatchObject({ name: 'run_commands', input: { commands: ['echo tool-ran-ok'] } });
        expect(res.tool_use_id).toBe(use.id);
        expect(JSON.stringify(res.content)).toContain('tool-ran-ok');
      } else {
        const assistant = (second.messages as any[]).find((m) => m.role === 'assistant' && m.tool_calls);
        expect(assistant.tool_calls[0].function.name).toBe('run_commands');
        expect((second.messages as any[]).find((m) => m.role === 'tool').tool_call_id).toBe(assistant.tool_calls[0].id);
      }

      // cligate -> upstream: an assistant tool_call, then a tool message with the output
      expect(chats).toHaveLength(2);
      const up = chats[1]!.body;
      const assistant = (up.messages as any[]).find((m) => m.role === 'assistant' && m.tool_calls);
      expect(assistant.tool_calls).toHaveLength(1);
      expect(textOf(assistant.content)).toBe('I will run it. ');
      expect(assistant.tool_calls[0].function.name).toBe('run_commands');
      expect(JSON.parse(assistant.tool_calls[0].function.arguments)).toEqual({ commands: ['echo tool-ran-ok'] });
      expect((up.messages as any[]).find((m) => m.role === 'tool').tool_call_id).toBe(assistant.tool_calls[0].id);
      expect(toolText(up)).toContain('tool-ran-ok');
      console.log(`[timing] cline (${mode}) run_commands round trip via openai-compatible: ${r.ms} ms [${timeline(r)}]`);
    });
  });
}
