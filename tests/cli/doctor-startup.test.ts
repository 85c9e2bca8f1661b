/**
 * The doctor's report at start-up, from the real `node --import tsx src/main.ts` (the sources that
 * `npm start` runs bundled): on a terminal (a pseudo-terminal from util-linux `script`) the table after the
 * "listening" line; not on a terminal, or with LOG_FORMAT=json, one structured log line with the
 * same facts and no table.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import which from 'which';
import { ROOT } from '../helpers/claude-env.js';
import { spawnServer } from '../helpers/server-process.js';

/** util-linux `script`, which gives its command a pseudo-terminal (looked up here: the server's PATH is node's folder only) */
const SCRIPT = which.sync('script', { nothrow: true });
let home: string;
let env: Record<string, string>;

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'cligate-doctor-start-'));
  env = {
    HOME: home,
    PATH: path.dirname(process.execPath),
    DATA_DIR: path.join(home, 'data'),
    CLAUDE_CLI_PATH: path.join(home, 'none', 'claude'),
    GEMINI_CLI_PATH: path.join(home, 'none', 'gemini'),
    QWEN_CLI_PATH: path.join(home, 'none', 'qwen'),
    CODEX_CLI_PATH: path.join(home, 'none', 'codex'),
    // no first-start question on the terminal
    API_KEY: 'sk-cligate-startup-test',
  };
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
});

/** the server's pid under `script`: script's one child (the shell exec'd node) */
async function childOf(pid: number): Promise<number | undefined> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  const first = text.trim().split(/\s+/)[0];
  return first ? Number(first) : undefined;
}

/** main.ts on a pseudo-terminal; resolves with everything it printed once `until` matched, then stops it */
async function onTerminal(extra: Record<string, string>, until: RegExp): Promise<string> {
  const cmd = `exec ${JSON.stringify(process.execPath)} --import tsx src/main.ts`;
  const child = spawn(SCRIPT!, ['-qefc', cmd, '/dev/null'], {
    cwd: ROOT,
    env: { ...env, PORT: '0', HOST: '127.0.0.1', TERM: 'xterm-256color', LOG_LEVEL: 'info', RATE_LIMIT_ENABLED: 'false', ...extra },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve, reject) => {
    child.once('exit', () => resolve());
    child.once('error', reject);
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  try {
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (until.test(out)) resolve();
      };
      child.stdout!.on('data', check);
      void exited.then(() => (until.test(out) ? resolve() : reject(new Error(`exited before ${until}: ${out}`))));
    });
  } finally {
    const server = await childOf(child.pid!);
    if (server) process.kill(server, 'SIGTERM');
    else child.kill('SIGTERM');
    await exited;
  }
  return out;
}

const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

describe('the doctor at start-up', () => {
  it.skipIf(!SCRIPT)('on a terminal: the table, coloured, after the listening line', async () => {
    const out = await onTerminal({}, /What to do next[\s\S]*nothing can answer yet[^\n]*\n/);
    const text = plain(out);
    expect(text).toMatch(/listening on 127\.0\.0\.1:\d+/);
    expect(text.indexOf('Providers')).toBeGreaterThan(text.search(/listening on/));
    expect(text).toMatch(/✗ claude-cli +CLI +not installed/);
    expect(text).toContain('fix: npm install -g @anthropic-ai/claude-code');
    expect(text).toMatch(/listens on +127\.0\.0\.1:\d+ \(clients: http:\/\/127\.0\.0\.1:\d+\)/);
    // the port shown is the one listened on (PORT=0 picks a free one), not 0
    expect(text).not.toMatch(/listens on +127\.0\.0\.1:0 /);
    expect(text).toMatch(/API key +set \(API_KEY\)/);
    // at start-up the table does not ask to run the doctor again
    expect(text).not.toContain('then run the doctor again');
    expect(out).toMatch(/\x1b\[3[12]m✗|\x1b\[31m/);
    expect(out).not.toContain('sk-cligate-startup-test');
  });

  it.skipIf(!SCRIPT)('on a terminal with LOG_FORMAT=json: no table, the log line', async () => {
    const out = await onTerminal({ LOG_FORMAT: 'json' }, /"doctor":/);
    expect(plain(out)).not.toContain('What to do next');
  });

  it('not on a terminal: one structured line with the same facts, no table', async () => {
    const server = await spawnServer(env);
    try {
      for (let i = 0; i < 200 && !/"doctor":/.test(server.output()); i++) await new Promise((r) => setTimeout(r, 50));
      const line = server.output().split('\n').find((l) => l.includes('"doctor":'));
      expect(line, server.output()).toBeDefined();
      const entry = JSON.parse(line!);
      expect(entry.msg).toBe('nothing can answer yet: run `cligate doctor` (npm run doctor) for what to do');
      expect(entry.level).toBe(40);
      expect(entry.doctor.ready).toEqual([]);
      expect(entry.doctor.apiKeySet).toBe(true);
      expect(entry.doctor.providers.find((p: any) => p.id === 'claude-cli')).toMatchObject({ ready: false, cli: { path: env.CLAUDE_CLI_PATH, loggedIn: false }, fix: expect.stringContaining('npm install -g @anthropic-ai/claude-code') });
      expect(entry.doctor.state.accounts).toBe(path.join(home, 'data', 'accounts.json'));
      expect(entry.doctor.next[0]).toContain('OPENAI_COMPATIBLE_BASE_URL=http://127.0.0.1:11434/v1');
      expect(server.output()).not.toContain('What to do next');
      expect(server.output()).not.toContain('sk-cligate-startup-test');
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });
});
