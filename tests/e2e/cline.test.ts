/**
 * The real `cline` CLI (npm cline 3.x), headless, with cligate as its OpenAI-compatible
 * provider, completes a one-step task: the model (the fake Anthropic upstream behind the
 * real claude CLI) calls cline's native read_files tool, cline runs it and sends the
 * result back, the model answers from it and cline ends the task. A recording proxy in
 * front of cligate keeps what cline sends (RECORD_CLINE=1 rewrites the fixture).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { startStack, type TestStack } from '../helpers/server.js';
import { ROOT } from '../helpers/claude-env.js';

const CLINE = path.join(ROOT, 'node_modules', '.bin', 'cline');
const FIXTURE = path.join(ROOT, 'tests', 'fixtures', 'cline', 'requests.json');

let stack: TestStack;
let root: string;
let proxy: http.Server;
let proxyUrl: string;
const recorded: { path: string; body: any }[] = [];

/** forwards to cligate and records each request body */
async function startRecorder(target: string): Promise<void> {
  proxy = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    if (raw.length) recorded.push({ path: req.url ?? '', body: JSON.parse(raw.toString()) });
    const up = await fetch(`${target}${req.url}`, { method: req.method, headers: { 'content-type': 'application/json', authorization: req.headers.authorization ?? '' }, body: raw.length ? raw : undefined });
    res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/json' });
    for await (const c of up.body ?? []) res.write(c);
    res.end();
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
}

/** a model that reads the file it is asked about, then answers from the tool result */
function model(notes: string) {
  return (prompt: string): string => {
    const result = /<tool_result name="read_files"[^>]*>\n([\s\S]*?)\n<\/tool_result>/.exec(prompt);
    if (result) {
      const said = /hello from the notes file/.test(result[1]!) ? 'The file says: hello from the notes file.' : `I could not read it: ${result[1]!.slice(0, 200)}`;
      return said;
    }
    return `I'll read the file first.\n<tool_call>\n${JSON.stringify({ name: 'read_files', arguments: { files: [{ path: notes }] } })}\n</tool_call>`;
  };
}

beforeAll(async () => {
  stack = await startStack({ API_KEY: 'sk-cline' });
  await startRecorder(stack.url);
  root = await mkdtemp(path.join(os.tmpdir(), 'cligate-cline-'));
});
afterAll(async () => {
  await new Promise((r) => proxy?.close(r));
  await stack?.close();
  await rm(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
});

describe('cline CLI through cligate', () => {
  it('completes a one-step task with a native tool call and leaves no process behind', async () => {
    const work = path.join(root, 'work');
    const home = path.join(root, 'home');
    const data = path.join(root, 'data');
    await mkdir(work, { recursive: true });
    await mkdir(home, { recursive: true });
    const notes = path.join(work, 'notes.txt');
    await writeFile(notes, 'hello from the notes file\n');
    stack.fake.setScript({ reply: model(notes) });
    const env = { HOME: home, PATH: process.env.PATH ?? '/usr/bin:/bin', CLINE_SESSION_BACKEND_MODE: 'local', CLINE_NO_AUTO_UPDATE: '1' };
    const opts = { cwd: work, env, extendEnv: false, reject: false, timeout: 120_000 } as const;

    const auth = await execa(CLINE, ['auth', '-p', 'openai-compatible', '-k', 'sk-cline', '-m', 'claude-sonnet-4-5', '-b', `${proxyUrl}/v1`, '--data-dir', data], opts);
    expect(auth.exitCode, auth.stderr).toBe(0);
    const run = await execa(CLINE, ['--data-dir', data, '--json', '-c', work, 'What does notes.txt say?'], opts);
    expect(run.exitCode, run.stderr.slice(-2000)).toBe(0);

    const events = run.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { type: string; event?: any; finishReason?: string });
    const toolStart = events.find((e) => e.event?.type === 'content_start' && e.event.contentType === 'tool');
    expect(toolStart?.event).toMatchObject({ toolName: 'read_files', input: { files: [{ path: notes }] } });
    expect(toolStart?.event.toolCallId).toMatch(/^call_/);
    const done = events.find((e) => e.event?.type === 'done');
    expect(done?.event).toMatchObject({ reason: 'completed', text: 'The file says: hello from the notes file.', iterations: 2 });
    expect(events.at(-1)).toMatchObject({ type: 'run_result', finishReason: 'completed' });

    // what cline sent: streamed chat completions with native tools, then the tool result
    const chats = recorded.filter((r) => r.path.endsWith('/chat/completions'));
    expect(chats).toHaveLength(2);
    const [first, second] = chats.map((c) => c.body);
    expect(first).toMatchObject({ model: 'claude-sonnet-4-5', stream: true, stream_options: { include_usage: true } });
    expect(first.tools.map((t: any) => t.function.name)).toContain('read_files');
    const assistant = second.messages.find((m: any) => m.role === 'assistant' && m.tool_calls);
    const tool = second.messages.find((m: any) => m.role === 'tool');
    expect(assistant.tool_calls[0].function.name).toBe('read_files');
    expect(tool.tool_call_id).toBe(assistant.tool_calls[0].id);
    expect(JSON.stringify(tool.content)).toContain('hello from the notes file');

    // no cline (or hub daemon) process outlives the run
    const ps = await execa('ps', ['-eo', 'pid,args'], { reject: false });
    expect(ps.stdout.split('\n').filter((l) => l.includes(data))).toEqual([]);

    if (process.env.RECORD_CLINE) {
      const scrub = (s: string) => s.split(root).join('<ROOT>').split(proxyUrl).join('<CLIGATE>');
      await writeFile(FIXTURE, `${scrub(JSON.stringify(chats, null, 2))}\n`);
    }
  });

  it('the recorded fixture is what the live run sends', async () => {
    const fixture = JSON.parse(await readFile(FIXTURE, 'utf8')) as { body: any }[];
    const [first] = fixture.map((f) => f.body);
    expect(first.stream).toBe(true);
    expect(first.tool_choice).toBe(recorded[0]?.body.tool_choice);
    expect(first.tools.map((t: any) => t.function.name).sort()).toEqual(recorded[0]!.body.tools.map((t: any) => t.function.name).sort());
  });
});
