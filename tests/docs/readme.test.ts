/**
 * The README walked as a newcomer walks it: every fenced block marked `<!-- readme-test -->` runs as
 * written, with bash, in a fresh HOME and working directory, against cligate started by the README's
 * own `<!-- readme-test: server -->` command. Fakes stand in for what needs a vendor account or a
 * local model: Ollama's URL in the start command is pointed at the OpenAI fake (the one substitution),
 * and cligate's CLIs (installed, "logged in") talk to the Anthropic, Gemini and OpenAI fakes. Clients
 * are the real CLIs from node_modules/.bin. `PORT`, `API_KEY` and `MODEL` are the variables the README
 * tells the reader to have; each block must print an answer, with API_KEY unset (the default) and set.
 * `<!-- readme-test: FILE -->` before a code block: the block is saved as FILE and run with node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { appendFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai.js';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { startFakeGemini, type FakeGemini } from '../fakes/gemini.js';
import { CLAUDE_BIN, CODEX_BIN, GEMINI_BIN, QWEN_BIN, ROOT, codexTestEnv, geminiTestEnv, qwenTestEnv } from '../helpers/claude-env.js';
import { isAlive, processTree, waitFor } from '../helpers/server.js';
import { processesUnder } from '../helpers/client-run.js';

export interface ReadmeBlock {
  /** '' for a shell block to run, 'server' for the start command, else the file name the block is saved as */
  mark: string;
  lang: string;
  code: string;
  /** the heading the block is under, and its line: what a failure names */
  where: string;
}

/** the fenced blocks preceded by a `<!-- readme-test[: mark] -->` line */
export function readmeBlocks(md: string): ReadmeBlock[] {
  const lines = md.split('\n');
  const out: ReadmeBlock[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const h = /^#{1,4} (.*)/.exec(lines[i]!);
    if (h) heading = h[1]!;
    const m = /^<!-- readme-test(?::\s*(\S+))? -->$/.exec(lines[i]!.trim());
    if (!m) continue;
    const fence = /^```(\w*)$/.exec(lines[i + 1] ?? '');
    if (!fence) throw new Error(`README line ${i + 1}: <!-- readme-test --> is not followed by a fenced block`);
    const end = lines.indexOf('```', i + 2);
    out.push({ mark: m[1] ?? '', lang: fence[1]!, code: lines.slice(i + 2, end).join('\n'), where: `"${heading}", README line ${i + 2}` });
    i = end;
  }
  return out;
}

const README = await readFile(path.join(ROOT, 'README.md'), 'utf8');
const blocks = readmeBlocks(README);
const ANSWER = 'HelloFromTheFakeUpstream';
const OLLAMA = 'http://localhost:11434/v1';
const BIN = path.join(ROOT, 'node_modules', '.bin');

let openai: FakeOpenAI;
let anthropic: FakeAnthropic;
let gemini: FakeGemini;
let root: string;

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** the environment of a machine with no network: the CLIs' update checks and model-list fetches off */
const offline = {
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
  DISABLE_AUTOUPDATER: '1',
  DISABLE_TELEMETRY: '1',
  CLAUDE_CODE_MAX_RETRIES: '0',
  KILO_DISABLE_AUTOUPDATE: '1',
  KILO_DISABLE_MODELS_FETCH: '1',
  OPENCODE_DISABLE_AUTOUPDATE: '1',
  OPENCODE_DISABLE_MODELS_FETCH: '1',
  // Cline's sessions in-process: otherwise it starts a hub daemon that outlives the command (and the test)
  CLINE_SESSION_BACKEND_MODE: 'local',
  npm_config_update_notifier: 'false',
};

interface Walk {
  port: number;
  apiKey?: string;
  server: ChildProcess;
  serverLog: () => string;
  home: string;
  work: string;
  env: Record<string, string>;
}

/** cligate as the README's start command starts it (the Ollama URL pointed at the fake), CLIs logged in to fakes */
async function startWalk(name: string, apiKey?: string): Promise<Walk> {
  const home = path.join(root, name, 'home');
  const serverHome = path.join(root, name, 'server-home');
  const work = path.join(root, name, 'work');
  for (const d of [home, serverHome, work]) await mkdir(d, { recursive: true });
  // the SDK snippet's project: `npm install openai @anthropic-ai/sdk` done (cligate's own copies)
  await symlink(path.join(ROOT, 'node_modules'), path.join(work, 'node_modules'));
  const port = await freePort();
  const start = blocks.find((b) => b.mark === 'server');
  if (!start) throw new Error('the README has no <!-- readme-test: server --> start command');
  expect(start.code, 'the start command names Ollama\'s URL').toContain(OLLAMA);
  const logins = {
    ANTHROPIC_BASE_URL: anthropic.url,
    ANTHROPIC_API_KEY: 'logged-in',
    ...(await geminiTestEnv(serverHome, gemini.url)),
    ...(await qwenTestEnv(serverHome, openai.url)),
    ...(await codexTestEnv(serverHome, openai.url)),
  };
  let log = '';
  const server = spawn('bash', ['-c', start.code.replaceAll(OLLAMA, `${openai.url}/v1`)], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: `${BIN}:${process.env.PATH}`,
      HOME: serverHome,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: path.join(serverHome, 'data'),
      RATE_LIMIT_ENABLED: 'false',
      CLEANUP_DELAY_MINUTES: '0',
      // the CLIs cligate runs: the pinned ones, by path (a bare name skips cligate's own node_modules/.bin)
      CLAUDE_CLI_PATH: CLAUDE_BIN,
      GEMINI_CLI_PATH: GEMINI_BIN,
      QWEN_CLI_PATH: QWEN_BIN,
      CODEX_CLI_PATH: CODEX_BIN,
      ...(apiKey ? { API_KEY: apiKey } : {}),
      ...offline,
      ...logins,
    },
  });
  server.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  server.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const up = await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined))?.ok === true, 60_000, 100);
  if (!up) throw new Error(`cligate did not start from the README's command:\n${log}`);
  const env: Record<string, string> = {
    PATH: `${BIN}:${process.env.PATH}`,
    HOME: home,
    PORT: String(port),
    MODEL: 'llama3.2',
    ...(apiKey ? { API_KEY: apiKey } : {}),
    ...offline,
  };
  return { port, apiKey, server, serverLog: () => log, home, work, env };
}

async function stopWalk(w: Walk | undefined): Promise<void> {
  if (!w) return;
  const pids = await processTree(w.server.pid!);
  try {
    process.kill(-w.server.pid!, 'SIGTERM');
  } catch {
    // gone already
  }
  await waitFor(() => pids.every((p) => !isAlive(p)), 20_000);
  for (const p of pids) if (isAlive(p)) process.kill(p, 'SIGKILL');
  if (process.env.CLIGATE_RUN_LOG) appendFileSync(process.env.CLIGATE_RUN_LOG, w.serverLog());
}

/** one README block, as written: bash for shell blocks, node for a saved snippet */
async function runBlock(w: Walk, b: ReadmeBlock) {
  const opts = { cwd: w.work, env: w.env, extendEnv: false, input: '', timeout: 150_000, reject: false, all: true } as const;
  if (b.lang === 'bash' || b.lang === 'sh') return execa('bash', ['-e', '-o', 'pipefail', '-c', b.code], opts);
  await writeFile(path.join(w.work, b.mark), b.code);
  return execa(process.execPath, [b.mark], opts);
}

const runnable = blocks.filter((b) => b.mark !== 'server');

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'cligate-readme-'));
  openai = await startFakeOpenAI({ reply: ANSWER });
  anthropic = await startFakeAnthropic({ reply: ANSWER });
  gemini = await startFakeGemini({ reply: ANSWER });
});

afterAll(async () => {
  await Promise.all([openai?.close(), anthropic?.close(), gemini?.close()]);
  if (root) await rm(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
});

describe('README', () => {
  it('marks the walkthrough: the start command, the four dialects, the CLI check, each client, the SDK snippet', () => {
    expect(blocks.filter((b) => b.mark === 'server')).toHaveLength(1);
    const all = runnable.map((b) => b.code).join('\n');
    for (const must of ['/v1/chat/completions', '/v1/messages', ':generateContent', '/v1/responses', '/v1/auth/status', 'claude ', 'gemini ', 'codex exec', 'qwen ', 'cline ', 'kilo run', 'opencode run']) expect(all).toContain(must);
    expect(runnable.some((b) => b.mark.endsWith('.mjs'))).toBe(true);
    // what the reader is told to set before "Using it"
    expect(README).toContain('export MODEL=llama3.2');
    // no client command sends an empty key while API_KEY is unset
    expect(all).not.toMatch(/\$API_KEY(?![:\w])|\$\{API_KEY\}/);
  });

  for (const [name, apiKey] of [['API_KEY unset', undefined], ['API_KEY set', 'readme-key-4f1d']] as const) {
    describe(`walked with ${name}`, () => {
      let walk: Walk | undefined;
      beforeAll(async () => {
        walk = await startWalk(name.replace(' ', '-'), apiKey);
      }, 90_000);
      afterAll(async () => {
        await stopWalk(walk);
      }, 30_000);

      // Kilo and opencode take ~40 s together; their key is the same \${API_KEY:-cligate} as every other block's
      for (const b of runnable.filter((x) => !apiKey || !x.code.includes('kilo run'))) {
        it(`${b.where} (${b.mark || b.code.split('\n')[0]!.slice(0, 60)}) prints an answer`, async () => {
          const r = await runBlock(walk!, b);
          const out = String(r.all);
          expect(r.exitCode, out).toBe(0);
          expect(out, out).toContain(ANSWER);
          // no answer of any command is an error
          expect(out).not.toMatch(/"error"\s*:\s*\{/);
          if (b.code.includes('for model in')) expect(out.split(ANSWER).length - 1, out).toBeGreaterThanOrEqual(4);
        }, 180_000);
      }

      it('no client process is left running in its HOME or working folder', async () => {
        const left = async () => [...(await processesUnder(walk!.home)), ...(await processesUnder(walk!.work))];
        await waitFor(async () => (await left()).length === 0, 10_000, 100);
        expect(await left()).toEqual([]);
      });
    });
  }
});
