/**
 * Which CLI runs: a bare *_CLI_PATH (the default `claude`) is looked up on PATH without cligate's own
 * node_modules/.bin, which `npm start` puts first and where the devDependency CLIs pinned for the
 * tests sit; the user's own CLI (here a stand-in script on a later PATH entry) is probed and run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from '../helpers/claude-env.js';
import { spawnServer, type ServerProcess } from '../helpers/server-process.js';
import { resolveCliPath, searchPath } from '../../src/runtime/cli-path.js';

const OWN_BIN = path.join(ROOT, 'node_modules', '.bin');
const PASSWORD = 'cli-path-test-password';

let dir: string;
let userBin: string;
let home: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cligate-cli-path-'));
  userBin = path.join(dir, 'bin');
  home = path.join(dir, 'home');
  await writeFile(path.join(dir, '.keep'), '');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(userBin);
  await mkdir(home);
  // "the user's claude": its own version, notes each run, answers with the stream-json stand-in
  const script = [
    '#!/bin/sh',
    `if [ "$1" = "--version" ]; then echo "9.9.9-user (Claude Code)"; exit 0; fi`,
    `echo "ran $*" >> "${path.join(dir, 'user-claude-ran')}"`,
    `exec "${process.execPath}" "${path.join(ROOT, 'tests/fakes/bin/fake-claude.mjs')}" "$@"`,
    '',
  ].join('\n');
  await writeFile(path.join(userBin, 'claude'), script);
  await chmod(path.join(userBin, 'claude'), 0o755);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('resolveCliPath', () => {
  it('skips the package’s own node_modules/.bin, its parents’ and npm’s node-gyp-bin; keeps the rest in order', () => {
    const gyp = '/usr/lib/node_modules/npm/node_modules/@npmcli/run-script/lib/node-gyp-bin';
    const parentBin = path.join(path.dirname(ROOT), 'node_modules', '.bin');
    const { dirs, skipped } = searchPath([gyp, OWN_BIN, parentBin, userBin, '/usr/bin', '/bin'].join(path.delimiter), ROOT);
    expect(dirs).toEqual([userBin, '/usr/bin', '/bin']);
    expect(skipped).toEqual([gyp, OWN_BIN, parentBin]);
  });

  it('finds a bare name past the devDependency copy; a path is used as is', () => {
    expect(existsSync(path.join(OWN_BIN, 'claude'))).toBe(true); // the pinned copy really is first on this PATH
    const PATH = [OWN_BIN, userBin, '/usr/bin', '/bin'].join(path.delimiter);
    const bare = resolveCliPath('claude', { PATH }, ROOT);
    expect(bare).toMatchObject({ command: path.join(userBin, 'claude'), searched: true, found: true, pathEnv: [userBin, '/usr/bin', '/bin'].join(path.delimiter) });
    const explicit = resolveCliPath(path.join(OWN_BIN, 'claude'), { PATH }, ROOT);
    expect(explicit).toMatchObject({ command: path.join(OWN_BIN, 'claude'), searched: false, pathEnv: PATH });
    // only the devDependency copy on PATH: not found, though it is there
    expect(resolveCliPath('claude', { PATH: [OWN_BIN, '/usr/bin', '/bin'].join(path.delimiter) }, ROOT)).toMatchObject({ command: 'claude', found: false });
  });
});

describe('the real server started with the project’s node_modules/.bin first on PATH (as npm start does)', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await spawnServer({
      HOME: home,
      PATH: [OWN_BIN, userBin, '/usr/bin', '/bin'].join(path.delimiter),
      // a credential the probe counts as logged in
      ANTHROPIC_API_KEY: 'sk-ant-test-cli-path',
      ADMIN_PASSWORD: PASSWORD,
      CLEANUP_DELAY_MINUTES: '0',
    });
  }, 30_000);
  afterAll(async () => {
    server?.child.kill('SIGTERM');
    await server?.exited;
  });

  it('probes the user’s claude (absolute path, its version), not the devDependency', async () => {
    const login = await fetch(`${server.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: PASSWORD }) });
    const { token } = (await login.json()) as { token: string };
    const status = (await (await fetch(`${server.url}/api/status`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      providers: { id: string; ready: boolean; cli?: { path?: string; installed: boolean; version?: string; reason?: string } }[];
    };
    const claude = status.providers.find((p) => p.id === 'claude-cli')!;
    expect(claude.cli).toMatchObject({ path: path.join(userBin, 'claude'), installed: true, version: '9.9.9-user (Claude Code)' });
    expect(claude.ready).toBe(true);
    // the gemini CLI is only in node_modules/.bin here: not installed, and the reason says why it was not taken
    const gemini = status.providers.find((p) => p.id === 'gemini-cli')!;
    expect(gemini.cli).toMatchObject({ installed: false });
    expect(gemini.cli?.reason).toMatch(/no 'gemini' on PATH \(cligate's own node_modules\/\.bin is not searched/);
  });

  it('runs the user’s claude for a request', async () => {
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-cli/claude-opus-4-8', messages: [{ role: 'user', content: 'hi' }] }),
    });
    const body = (await res.json()) as { choices?: { message: { content: string } }[] };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.choices?.[0]?.message.content).toBe('soak answer');
    expect(await readFile(path.join(dir, 'user-claude-ran'), 'utf8')).toMatch(/^ran .*--model claude-opus-4-8/m);
  });
});
