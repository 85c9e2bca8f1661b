/**
 * `npm run doctor` / `cligate doctor` as a user runs it (a real child process, `node --import tsx
 * src/bin.ts doctor`, which is the npm script): a fresh HOME with nothing logged in, the real
 * Claude Code from node_modules installed but not logged in, then logged in, account pools from a
 * store on disk (Cloud Code with and without its OAuth client), the OpenAI-compatible upstream;
 * the exit code, the fix named, nothing written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { CLAUDE_BIN, ROOT } from '../helpers/claude-env.js';

let dir: string;
const nowhere = (name: string) => path.join(dir, 'not-installed', name);

/** a user with nothing: an empty HOME, a PATH with only node on it, no CLI at the configured paths */
function baseEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    HOME: home,
    PATH: path.dirname(process.execPath),
    DATA_DIR: path.join(home, 'data'),
    CLAUDE_CLI_PATH: nowhere('claude'),
    GEMINI_CLI_PATH: nowhere('gemini'),
    QWEN_CLI_PATH: nowhere('qwen'),
    CODEX_CLI_PATH: nowhere('codex'),
    ...extra,
  };
}

/** tsx from this repo: the doctor runs in the temp folder (its .env and relative paths are read from there) */
const TSX = pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const doctor = (env: Record<string, string>, args: string[] = []) =>
  execa(process.execPath, ['--import', TSX, path.join(ROOT, 'src/bin.ts'), 'doctor', ...args], { cwd: dir, env, extendEnv: false, reject: false, timeout: 60_000 });

async function freshHome(name: string): Promise<string> {
  const home = path.join(dir, name);
  await mkdir(home, { recursive: true });
  return home;
}

type Report = { ready: string[]; servable: string[]; providers: any[]; next: string[]; server: any; state: any };
const byId = (r: Report, id: string) => r.providers.find((p) => p.id === id);

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cligate-doctor-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('cligate doctor', () => {
  it('with nothing logged in: every provider, what to do next, exit code 1, and nothing written', async () => {
    const home = await freshHome('nothing');
    const r = await doctor(baseEnv(home));
    expect(r.exitCode).toBe(1);
    const out = r.stdout;
    for (const id of ['openai-compatible', 'gemini-enterprise', 'cloudcode', 'kiro', 'claude-cli', 'gemini-cli', 'qwen-cli', 'codex-cli']) expect(out).toContain(id);
    // which executable was looked for, and the exact command that installs it
    expect(out).toContain(nowhere('claude'));
    expect(out).toContain('fix: npm install -g @anthropic-ai/claude-code (or set CLAUDE_CLI_PATH to its path)');
    expect(out).toContain('fix: npm install -g @openai/codex');
    expect(out).toMatch(/would serve: claude-/);
    // Cloud Code: no OAuth client, and where one comes from
    expect(out).toMatch(/cloudcode .*no OAuth client/);
    expect(out).toContain('CLOUDCODE_OAUTH_CLIENT_ID and CLOUDCODE_OAUTH_CLIENT_SECRET');
    expect(out).toContain('`cligate accounts add`');
    // the next step without any vendor account
    expect(out).toContain('nothing can answer yet');
    expect(out).toContain('OPENAI_COMPATIBLE_BASE_URL=http://127.0.0.1:11434/v1 OPENAI_COMPATIBLE_MODELS=llama3.2');
    expect(out).toContain('npm install -g @anthropic-ai/claude-code`, then `claude` and /login');
    // server and state
    expect(out).toMatch(/listens on +0\.0\.0\.0:8000/);
    expect(out).toMatch(/API key +not set/);
    expect(out).toMatch(/admin +off \(set ADMIN_PASSWORD/);
    expect(out).toContain(path.join(home, 'data', 'accounts.json'));
    expect(out).toContain('(not created yet: made on first start)');
    expect(out).toContain(path.join(home, 'data', 'usage'));
    expect(out).toContain(path.join(home, '.cligate'));
    // not a terminal: no colour
    expect(out).not.toMatch(/\x1b\[/);
    // it reads, it does not set up: no data folder, no account store copied in
    expect(existsSync(path.join(home, 'data'))).toBe(false);
    expect(existsSync(path.join(home, '.cligate'))).toBe(false);
  });

  it('the real claude installed but not logged in: its path and version, and the login command', async () => {
    const home = await freshHome('installed');
    const r = await doctor(baseEnv(home, { CLAUDE_CLI_PATH: CLAUDE_BIN }), ['--json']);
    expect(r.exitCode).toBe(1);
    const report = JSON.parse(r.stdout) as Report;
    const claude = byId(report, 'claude-cli');
    expect(claude).toMatchObject({ kind: 'cli', ready: false, cli: { path: CLAUDE_BIN, installed: true, loggedIn: false }, fix: 'claude, then /login (or claude setup-token)' });
    expect(claude.cli.version).toMatch(/^\d+\.\d+\.\d+ \(Claude Code\)$/);
    expect(report.ready).toEqual([]);
    // the next step names the login of what is installed, not an install
    expect(report.next[0]).toContain('claude-cli: `claude, then /login (or claude setup-token)`');
    expect(report.next[0]).not.toContain('npm install -g');
  });

  it('claude logged in: ready, the models it serves, a curl to try, exit code 0', async () => {
    const home = await freshHome('logged-in');
    const env = baseEnv(home, { CLAUDE_CLI_PATH: CLAUDE_BIN, ANTHROPIC_API_KEY: 'sk-ant-test', API_KEY: 'sk-cligate-doctor', HOST: '127.0.0.1', PORT: '9123' });
    const r = await doctor(env);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/✓ claude-cli +CLI +ready/);
    expect(r.stdout).toContain(`${CLAUDE_BIN} · version `);
    expect(r.stdout).toContain('logged in (environment variable ANTHROPIC_API_KEY)');
    expect(r.stdout).toMatch(/serves: claude-/);
    expect(r.stdout).toMatch(/API key +set \(API_KEY\)/);
    expect(r.stdout).toContain('curl http://127.0.0.1:9123/v1/chat/completions -H "authorization: Bearer $API_KEY"');
    expect(r.stdout).not.toContain('nothing can answer');
    // secrets are never printed
    expect(r.stdout).not.toContain('sk-ant-test');
    expect(r.stdout).not.toContain('sk-cligate-doctor');
  });

  it('account pools from the store on disk: usable accounts per pool, Cloud Code ready only with its OAuth client; the store is left as it was', async () => {
    const home = await freshHome('pools');
    await mkdir(path.join(home, 'data'));
    const file = path.join(home, 'data', 'accounts.json');
    const store = {
      accounts: [
        { id: 'cc-1', provider: 'cloudcode', enabled: true, weight: 100, credentials: { refresh_token: '1//doctor-test', project_id: 'p-1' } },
        { id: 'kiro-1', provider: 'kiro', enabled: true, weight: 100, credentials: { refresh_token: 'kiro-doctor-test', auth_method: 'social' } },
        { id: 'kiro-2', provider: 'kiro', enabled: false, weight: 100, credentials: { refresh_token: 'kiro-doctor-test-2', auth_method: 'social' } },
      ],
      keys: [
        { id: 'key_00000001', name: 'alice', hash: 'a'.repeat(64), hint: 'cg-AbCd…', createdAt: 1, limits: {}, enabled: true },
        { id: 'key_00000002', name: 'bob', hash: 'b'.repeat(64), hint: 'cg-EfGh…', createdAt: 1, limits: {}, enabled: true, revokedAt: 2 },
      ],
    };
    await writeFile(file, `${JSON.stringify(store, null, 2)}\n`);
    const before = await stat(file);

    const noClient = JSON.parse((await doctor(baseEnv(home), ['--json'])).stdout) as Report;
    expect(byId(noClient, 'cloudcode')).toMatchObject({ ready: false, accounts: { usable: 1, total: 1, oauthClient: false }, fix: expect.stringContaining('CLOUDCODE_OAUTH_CLIENT_ID') });
    expect(byId(noClient, 'kiro')).toMatchObject({ ready: true, accounts: { usable: 1, total: 2, enabled: 1 } });
    expect(noClient.ready).toEqual(['kiro']);
    expect(noClient.servable.length).toBeGreaterThan(0);

    const withClient = await doctor(baseEnv(home, { CLOUDCODE_OAUTH_CLIENT_ID: 'client.apps.googleusercontent.com', CLOUDCODE_OAUTH_CLIENT_SECRET: 'doctor-secret' }));
    expect(withClient.exitCode).toBe(0);
    expect(withClient.stdout).toMatch(/✓ cloudcode +accounts +ready/);
    expect(withClient.stdout).toContain('1 of 1 accounts usable · OAuth client configured');
    expect(withClient.stdout).toContain('1 of 2 accounts usable (1 enabled)');
    expect(withClient.stdout).not.toContain('doctor-secret');
    // client keys in the store: the API is not open
    expect(withClient.stdout).toMatch(/API keys +2 client keys \(1 usable\): every API request needs one/);
    expect(noClient.server).toMatchObject({ apiKey: false, clientKeys: { total: 2, usable: 1 } });
    expect(withClient.stdout).not.toContain('1//doctor-test');

    expect(await readFile(file, 'utf8')).toBe(`${JSON.stringify(store, null, 2)}\n`);
    expect((await stat(file)).mtimeMs).toBe(before.mtimeMs);
  });

  it('a local OpenAI-compatible server configured: that alone can answer (exit code 0)', async () => {
    const home = await freshHome('upstream');
    const r = await doctor(baseEnv(home, { OPENAI_COMPATIBLE_BASE_URL: 'http://127.0.0.1:11434/v1', OPENAI_COMPATIBLE_MODELS: 'llama3.2' }), ['--json']);
    expect(r.exitCode).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(byId(report, 'openai-compatible')).toMatchObject({ kind: 'upstream', ready: true, models: ['llama3.2'] });
    expect(report.servable).toEqual(['llama3.2']);

    const noModels = JSON.parse((await doctor(baseEnv(home, { OPENAI_COMPATIBLE_BASE_URL: 'http://127.0.0.1:11434/v1' }), ['--json'])).stdout) as Report;
    expect(byId(noModels, 'openai-compatible')).toMatchObject({ ready: false, fix: 'list the models it serves in OPENAI_COMPATIBLE_MODELS' });
  });

  it('--help says what it shows and the exit codes; a bad option or a bad setting exits 2 with what to fix', async () => {
    const home = await freshHome('help');
    const help = await doctor(baseEnv(home), ['--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('Exit code: 0 when at least one provider can answer a request now, 1 when nothing can');
    const bad = await doctor(baseEnv(home), ['--bogus']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("Unknown option '--bogus'");
    const badConfig = await doctor(baseEnv(home, { PORT: 'eighty' }));
    expect(badConfig.exitCode).toBe(2);
    expect(badConfig.stderr).toContain('PORT');
    expect(badConfig.stderr).toContain('run the doctor again');
  });
});
