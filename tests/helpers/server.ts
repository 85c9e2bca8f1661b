/** Starts cligate in-process against a fake Anthropic upstream and the real claude CLI. */
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { pino } from 'pino';
import { readFileSync } from 'node:fs';
import { startFakeAnthropic, type FakeAnthropic, type FakeAnthropicScript } from '../fakes/anthropic.js';
import { claudeTestEnv, codexTestEnv, geminiTestEnv, qwenTestEnv, CLAUDE_BIN, CODEX_BIN, GEMINI_BIN, QWEN_BIN } from './claude-env.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai.js';
import { startFakeGemini, type FakeGemini } from '../fakes/gemini.js';

export interface TestStack {
  /** the Anthropic upstream of the claude CLI */
  fake: FakeAnthropic;
  /** the Gemini API upstream of the gemini CLI */
  gemini: FakeGemini;
  /** the OpenAI-compatible upstream of the qwen CLI (chat completions) and of codex (Responses API) */
  openai: FakeOpenAI;
  server: RunningServer;
  url: string;
  home: string;
  close(): Promise<void>;
}

/** every server of the run logs into the run log (scanned for secrets at the end), else nowhere */
export function runLogger() {
  const runLog = process.env.CLIGATE_RUN_LOG;
  return runLog ? pino({ level: process.env.TEST_LOG_LEVEL ?? 'debug' }, pino.destination({ dest: runLog, append: true, sync: true })) : pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
}

export async function startStack(
  overrides: Record<string, string> = {},
  script?: FakeAnthropicScript,
): Promise<TestStack> {
  const fake = await startFakeAnthropic(script);
  const gemini = await startFakeGemini();
  const openai = await startFakeOpenAI();
  const claude = await claudeTestEnv(fake.url);
  Object.assign(
    claude.env,
    await geminiTestEnv(claude.home, gemini.url),
    await qwenTestEnv(claude.home, openai.url),
    await codexTestEnv(claude.home, openai.url),
  );
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    CLAUDE_CLI_PATH: CLAUDE_BIN,
    GEMINI_CLI_PATH: GEMINI_BIN,
    QWEN_CLI_PATH: QWEN_BIN,
    CODEX_CLI_PATH: CODEX_BIN,
    RATE_LIMIT_ENABLED: 'false',
    LOG_LEVEL: 'silent',
    CLEANUP_DELAY_MINUTES: '0',
    // the account store and image cache live in the throwaway HOME, not in the repo
    DATA_DIR: path.join(claude.home, 'data'),
    ...overrides,
  });
  const server = await startServer(config, runLogger(), claude.env);
  return {
    fake,
    gemini,
    openai,
    server,
    url: server.url,
    home: claude.home,
    async close() {
      await server.close(0);
      await fake.close();
      await gemini.close();
      await openai.close();
      await claude.cleanup();
    },
  };
}

/** pids of a process and all its descendants, read from /proc */
export async function processTree(pid: number): Promise<number[]> {
  const { readdir, readFile } = await import('node:fs/promises');
  const parents = new Map<number, number[]>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = parents.get(ppid) ?? [];
      list.push(Number(entry));
      parents.set(ppid, list);
    } catch {
      // the process exited while we looked
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of parents.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

/** alive and not a zombie */
export function isAlive(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
}

export async function waitFor(cond: () => boolean | Promise<boolean>, ms = 5000, step = 25): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, step));
  }
  return cond();
}
