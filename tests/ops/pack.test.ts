/**
 * The installable `cligate` command, as a user gets it: `npm pack` (its prepack hook compiles to
 * dist/) on a copy of this package, `npm i -g --prefix <tmp> <tarball>` (production dependencies
 * only, from npm's cache when it has them: --prefer-offline), then the installed
 * `<tmp>/bin/cligate`: --version, --help, doctor, accounts, and start, which answers /health,
 * serves the admin console from the package's public/, runs a real Claude Code request in a
 * sandbox made from the package's sandbox/ template and an OpenAI-compatible request through a
 * fake upstream, and on SIGTERM exits 0 with no process or sandbox left behind.
 *
 * Slow but needed: it is the only test of the compiled output and the package's file list.
 * The copy keeps the shared working tree's dist/ untouched. On a warm npm cache the pack takes
 * ~7 s and the install ~12 s (figures printed); with a cold cache the install downloads the
 * production dependencies (~150 packages).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { CLAUDE_BIN, ROOT, claudeTestEnv } from '../helpers/claude-env.js';
import { fetchJson } from '../helpers/net.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai.js';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';

/** what the package is built and packed from (as in a clone; node_modules is this repo's) */
const SOURCES = ['bin', 'scripts', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md', '.env.example', 'src', 'public', 'sandbox', 'config'];

let dir: string;
let tarball: string;
let bin: string;
let files: string[];
/** the copy's `cligate` before it was built (no dist/) */
let unbuilt: { exitCode?: number; stderr: string };
const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };
/** npm without its update check and audit (the install itself may reach the registry for what the cache lacks) */
const npmEnv = { ...process.env, npm_config_update_notifier: 'false', npm_config_audit: 'false', npm_config_fund: 'false' };

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cligate-pack-'));
  const src = path.join(dir, 'src');
  await mkdir(src);
  for (const f of SOURCES) await cp(path.join(ROOT, f), path.join(src, f), { recursive: true });
  await symlink(path.join(ROOT, 'node_modules'), path.join(src, 'node_modules'));

  unbuilt = await execa(process.execPath, [path.join(src, 'bin', 'cligate.js'), '--version'], { cwd: src, reject: false });

  let t = Date.now();
  const packed = await execa('npm', ['pack', '--json', '--pack-destination', dir], { cwd: src, env: npmEnv });
  const info = JSON.parse(packed.stdout)[0] as { filename: string; files: { path: string }[] };
  tarball = path.join(dir, info.filename);
  files = info.files.map((f) => f.path);
  const packMs = Date.now() - t;

  t = Date.now();
  await execa('npm', ['install', '--global', '--prefix', path.join(dir, 'prefix'), '--prefer-offline', tarball], { cwd: dir, env: npmEnv });
  bin = path.join(dir, 'prefix', 'bin', 'cligate');
  console.log(`npm pack ${packMs} ms, npm install -g of the tarball ${Date.now() - t} ms`);
}, 600_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
});

/** a user with nothing: a fresh HOME, a PATH with node only, run in a folder of its own */
async function user(name: string, extra: Record<string, string> = {}): Promise<{ cwd: string; env: Record<string, string> }> {
  const cwd = path.join(dir, name);
  await mkdir(path.join(cwd, 'home'), { recursive: true });
  await mkdir(path.join(cwd, 'tmp'));
  const env: Record<string, string> = { HOME: path.join(cwd, 'home'), PATH: path.dirname(process.execPath), TMPDIR: path.join(cwd, 'tmp'), ...extra };
  return { cwd, env };
}

const run = (args: string[], u: { cwd: string; env: Record<string, string> }) => execa(bin, args, { cwd: u.cwd, env: u.env, extendEnv: false, reject: false, timeout: 60_000 });

/** processes whose command line or working directory lies under `root` */
async function processesUnder(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
    if (cmd.includes(root) || cwd.startsWith(root)) out.push(`${pid} ${cmd.replace(/\0/g, ' ')}`);
  }
  return out;
}

describe('the packed cligate command', () => {
  it('the tarball has the compiled output and the runtime assets, nothing of the working tree', () => {
    expect(pkg.bin).toEqual({ cligate: 'bin/cligate.js' });
    for (const f of ['bin/cligate.js', 'dist/bin.js', 'dist/main.js', 'dist/doctor/main.js', 'dist/cli/accounts.js', 'public/admin/index.html', 'sandbox/claude/.claude/settings.json', 'config/accounts.example.json', '.env.example', 'README.md', 'package.json']) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => /^(src|tests|bench|docs|data|node_modules)\//.test(f) || f === '.env')).toEqual([]);
  });

  it('in a clone: without dist/ the command says to build; built, `npx cligate` runs the project\'s own command', async () => {
    expect(unbuilt.exitCode).toBe(1);
    expect(unbuilt.stderr).toContain('run `npm run build` first');
    const npx = await execa('npx', ['--no-install', 'cligate', '--version'], { cwd: path.join(dir, 'src'), env: npmEnv, reject: false });
    expect(npx.stdout).toBe(pkg.version);
  });

  it('installs as a `cligate` binary: --version, --help, an unknown command', async () => {
    const u = await user('basics');
    expect(existsSync(bin)).toBe(true);
    expect((await run(['--version'], u)).stdout).toBe(pkg.version);
    const help = await run(['--help'], u);
    expect(help.exitCode).toBe(0);
    for (const c of ['cligate [start]', 'cligate doctor', 'cligate accounts add', 'cligate accounts import']) expect(help.stdout).toContain(c);
    const bad = await run(['strat'], u);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("unknown command 'strat'");
  });

  it('cligate doctor: exit 1 with nothing to answer, 0 with an upstream; cligate accounts list', async () => {
    const u = await user('doctor');
    const none = await run(['doctor'], u);
    expect(none.exitCode).toBe(1);
    expect(none.stdout).toContain(`cligate ${pkg.version} doctor`);
    expect(none.stdout).toContain('nothing can answer yet');
    expect(none.stdout).toContain(path.join(u.cwd, 'data', 'accounts.json'));
    const up = await run(['doctor', '--json'], { ...u, env: { ...u.env, OPENAI_COMPATIBLE_BASE_URL: 'http://127.0.0.1:11434/v1', OPENAI_COMPATIBLE_MODELS: 'llama3.2' } });
    expect(up.exitCode).toBe(0);
    expect(JSON.parse(up.stdout).cligate.root).toBe(path.join(dir, 'prefix', 'lib', 'node_modules', 'cligate'));
    const list = await run(['accounts', 'list'], u);
    expect(list.exitCode).toBe(0);
    // the account tools of the installed package use the store in the current folder's DATA_DIR
    expect(existsSync(path.join(u.cwd, 'data', 'accounts.json'))).toBe(true);
  });

  it('cligate start: /health, the admin console, a Claude Code request in a sandbox and an upstream request; SIGTERM leaves nothing behind', async () => {
    let upstream: FakeOpenAI | undefined;
    let anthropic: FakeAnthropic | undefined;
    let claude: Awaited<ReturnType<typeof claudeTestEnv>> | undefined;
    let child: ChildProcess | undefined;
    try {
      upstream = await startFakeOpenAI({ reply: 'hello from the local model' });
      anthropic = await startFakeAnthropic({ reply: 'hello from claude' });
      claude = await claudeTestEnv(anthropic.url);
      const u = await user('start', {
        ...claude.env,
        HOME: claude.home,
        PATH: path.dirname(process.execPath),
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        ADMIN_PASSWORD: 'pack-test-admin',
        CLAUDE_CLI_PATH: CLAUDE_BIN,
        OPENAI_COMPATIBLE_BASE_URL: `${upstream.url}/v1`,
        OPENAI_COMPATIBLE_MODELS: 'local-llama',
      });
      u.env.TMPDIR = path.join(u.cwd, 'tmp');
      child = spawn(bin, ['start'], { cwd: u.cwd, env: u.env, stdio: ['ignore', 'pipe', 'pipe'] });
      const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      const port = await new Promise<number>((resolve, reject) => {
        child!.stdout!.on('data', () => {
          const m = /"port":(\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        void exited.then((code) => reject(new Error(`cligate start exited (${code}): ${out}`)));
      });
      const url = `http://127.0.0.1:${port}`;

      expect((await fetchJson(`${url}/health`)).json).toMatchObject({ status: 'ok' });
      // the console's files come from the installed package's public/admin
      const admin = await fetch(`${url}/admin/`);
      expect(admin.status).toBe(200);
      expect(await admin.text()).toContain('<html');

      const viaUpstream = await fetchJson(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'local-llama', messages: [{ role: 'user', content: 'hi' }] }) });
      expect(viaUpstream.json.choices[0].message.content).toBe('hello from the local model');

      // a CLI request: its sandbox is made from the installed package's sandbox/ template
      const viaClaude = await fetchJson(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude-opus-4-8', messages: [{ role: 'user', content: 'hi' }] }) });
      expect(viaClaude.status, viaClaude.text).toBe(200);
      expect(viaClaude.json.choices[0].message.content).toBe('hello from claude');

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out).toContain('"msg":"stopped"');
      expect(await processesUnder(u.cwd)).toEqual([]);
      expect(await processesUnder(path.join(dir, 'prefix'))).toEqual([]);
      // every sandbox was removed
      expect(await readdir(u.env.TMPDIR!)).toEqual([]);
    } finally {
      if (child && child.exitCode === null) child.kill('SIGKILL');
      await upstream?.close();
      await anthropic?.close();
      await claude?.cleanup();
    }
  });
});
