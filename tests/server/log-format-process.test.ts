/**
 * What the server writes per request, run as a person or a log collector runs it: `npm start` on a
 * pseudo-terminal (tests/helpers/pty.ts) writes one human line per request, no JSON; the same server
 * on a pipe writes JSON lines that parse; LOG_FORMAT=json on a terminal and LOG_FORMAT=pretty on a pipe
 * turn that around. One request against a fake OpenAI-compatible upstream each time.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../helpers/claude-env.js';
import { freePort, waitUntilUp } from '../helpers/net.js';
import { spawnServer } from '../helpers/server-process.js';
import { hasScript, killTree, plain, spawnPty, type Pty } from '../helpers/pty.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai.js';

const MODEL = 'local-llama';
let upstream: FakeOpenAI;
let home: string;
const ptys: Pty[] = [];

beforeAll(async () => {
  upstream = await startFakeOpenAI({ reply: 'hi', usage: { prompt_tokens: 120, completion_tokens: 45 } });
  home = await mkdtemp(path.join(os.tmpdir(), 'cligate-log-format-'));
});
afterEach(() => {
  for (const p of ptys.splice(0)) killTree(p);
});
afterAll(async () => {
  await upstream?.close();
  await rm(home, { recursive: true, force: true });
});

function env(port: number, extra: Record<string, string> = {}): Record<string, string | undefined> {
  const base: Record<string, string | undefined> = { ...process.env };
  // a user's terminal: CI (set by .ci/run) makes Node's tty report no colours, as it should on a CI runner
  for (const k of Object.keys(base)) if (/^(npm_|VITEST|LOG_FORMAT$|NODE_ENV$|NO_COLOR$|FORCE_COLOR$|CI$)/.test(k)) delete base[k];
  return {
    ...base,
    HOME: home,
    DATA_DIR: path.join(home, 'data'),
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    // set (empty): a start at a terminal does not ask about a key
    API_KEY: '',
    RATE_LIMIT_ENABLED: 'false',
    OPENAI_COMPATIBLE_BASE_URL: `${upstream.url}/v1`,
    OPENAI_COMPATIBLE_MODELS: MODEL,
    TERM: 'xterm-256color',
    npm_config_update_notifier: 'false',
    ...extra,
  };
}

async function chat(port: number): Promise<void> {
  const r = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'one line please' }] }),
  });
  expect(r.status).toBe(200);
  await r.text();
}

const ONE_LINE = new RegExp(`^\\d\\d:\\d\\d:\\d\\d POST /v1/chat/completions 200 ${MODEL} → openai-compatible \\d+ms 120→45 tok$`);
const linesOf = (s: string) => plain(s).split('\n').filter((l) => l.trim());

/** starts on a terminal, waits until it answers and has written everything it writes at start */
async function onTerminal(command: string, port: number, extra: Record<string, string> = {}): Promise<Pty> {
  const pty = spawnPty(command, { cwd: ROOT, env: env(port, extra) });
  ptys.push(pty);
  await pty.waitFor(/cligate listening/, 60_000);
  await waitUntilUp(`http://127.0.0.1:${port}/health`, 'cligate');
  // the start-up report comes after the listening line
  await pty.settle(1500);
  return pty;
}

describe.skipIf(!hasScript())('on a terminal', () => {
  it('`npm start`: one request is exactly one coloured line, no JSON', async () => {
    const port = await freePort();
    const pty = await onTerminal('npm start', port);
    const mark = pty.raw().length;
    await chat(port);
    await pty.waitFor(/POST \/v1\/chat\/completions 200/, 10_000, plain(pty.raw().slice(0, mark)).length);
    await pty.settle(500);
    const raw = pty.raw().slice(mark);
    expect(linesOf(raw)).toEqual([expect.stringMatching(ONE_LINE)]);
    expect(raw).not.toContain('{');
    // the status in green
    expect(raw).toContain('\u001b[32m200\u001b[39m');
    // the warning at start is one readable line too
    expect(pty.text()).toMatch(/^\d\d:\d\d:\d\d WARN API_KEY is not set: .*$/m);
    pty.type('\x03');
    await pty.exited;
  }, 120_000);

  it('LOG_FORMAT=json: JSON lines that parse, even on a terminal', async () => {
    const port = await freePort();
    const pty = await onTerminal('node --import tsx src/main.ts', port, { LOG_FORMAT: 'json' });
    await chat(port);
    // this request's line: /health's lines (the start-up wait) match "request" too, and on a busy
    // machine Ctrl-C could follow them before this one was written
    await pty.waitFor(/"path":"\/v1\/chat\/completions"/, 10_000);
    pty.type('\x03');
    await pty.exited;
    // the terminal echoes Ctrl-C as ^C, ahead of what comes next on that line
    const lines = linesOf(pty.raw())
      .map((l) => l.replace(/^\^C/, ''))
      .filter(Boolean);
    const entries = lines.map((l) => JSON.parse(l) as { msg: string; path?: string });
    expect(entries.filter((e) => e.msg === 'request' && e.path === '/v1/chat/completions')).toHaveLength(1);
  }, 120_000);
});

describe('on a pipe', () => {
  it('auto: JSON lines that parse, one per request', async () => {
    const server = await spawnServer(env(0, { API_KEY: '' }) as Record<string, string>);
    try {
      await chat(Number(new URL(server.url).port));
      await new Promise((r) => setTimeout(r, 300));
      const entries = server
        .output()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { msg: string; path?: string });
      expect(entries.filter((e) => e.msg === 'request' && e.path === '/v1/chat/completions')).toEqual([
        expect.objectContaining({ status: 200, model: MODEL, provider: 'openai-compatible', tokensIn: 120, tokensOut: 45 }),
      ]);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  }, 60_000);

  it('LOG_FORMAT=pretty: one line per request, no JSON, no colour', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main.ts')], { cwd: ROOT, env: env(port, { LOG_FORMAT: 'pretty' }), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise((r) => child.once('exit', r));
    try {
      await waitUntilUp(`http://127.0.0.1:${port}/health`, 'cligate');
      await new Promise((r) => setTimeout(r, 1000));
      const mark = out.length;
      await chat(port);
      await new Promise((r) => setTimeout(r, 300));
      expect(linesOf(out.slice(mark))).toEqual([expect.stringMatching(ONE_LINE)]);
      expect(out).not.toContain('\u001b');
      expect(out).toMatch(/^\d\d:\d\d:\d\d cligate listening on 127\.0\.0\.1:\d+/m);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  }, 60_000);
});
