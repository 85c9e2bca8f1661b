/**
 * `npm start` in a clone runs the server from its bundle (scripts/start.js → dist/main.js, made
 * by scripts/bundle.js), built when missing or older than what it is made from. Here, on a copy
 * of the package (the shared working tree's dist/ is left alone; node_modules is this repo's):
 * when it is rebuilt and when it is not, and that `npm start` on a clone with no dist/ builds it,
 * serves /health, finds its files where the per-file build would (the admin console in public/,
 * uPlot in node_modules, the sandbox template), and stops with exit 0 on SIGTERM to npm.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, readFile, readdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { ROOT } from '../helpers/claude-env.js';
import { fetchJson } from '../helpers/net.js';

const SOURCES = ['scripts', 'package.json', 'tsconfig.json', 'src', 'public', 'sandbox', 'config'];
let dir: string;
let app: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cligate-start-'));
  app = path.join(dir, 'app');
  await mkdir(app);
  for (const f of SOURCES) await cp(path.join(ROOT, f), path.join(app, f), { recursive: true });
  await symlink(path.join(ROOT, 'node_modules'), path.join(app, 'node_modules'));
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
});

const bundleIfStale = async () => (await execa(process.execPath, ['scripts/bundle.js', '--if-stale'], { cwd: app })).stderr;
/** a time later than any file of the copy */
const later = () => new Date(Date.now() + 2000);

describe('the start bundle', () => {
  it('is built when missing, kept while current, and rebuilt when a source, package.json or tsc output replaced it', async () => {
    await rm(path.join(app, 'dist'), { recursive: true, force: true });
    expect(await bundleIfStale()).toMatch(/^dist\/main\.js bundled in \d+ ms$/);
    expect(await bundleIfStale()).toBe('dist/main.js is current');

    // a source saved after the build
    await utimes(path.join(app, 'src/core/errors.ts'), later(), later());
    expect(await bundleIfStale()).toMatch(/bundled/);
    expect(await bundleIfStale()).toBe('dist/main.js is current');

    // a file removed from src/ (its folder's time moves)
    await writeFile(path.join(app, 'src/core/extra.ts'), 'export const x = 1;\n');
    await bundleIfStale();
    await rm(path.join(app, 'src/core/extra.ts'));
    await utimes(path.join(app, 'src/core'), later(), later());
    expect(await bundleIfStale()).toMatch(/bundled/);

    // dependencies changed (package.json stands for them here: node_modules is shared)
    await utimes(path.join(app, 'package.json'), later(), later());
    expect(await bundleIfStale()).toMatch(/bundled/);

    // tsc's own dist/main.js (what `tsc -p tsconfig.build.json` alone leaves) is not the bundle
    await writeFile(path.join(app, 'dist/main.js'), 'export {};\n');
    expect(await bundleIfStale()).toMatch(/bundled/);
    expect(await readFile(path.join(app, 'dist/main.js'), 'utf8')).toMatch(/^\/\/ cligate server bundle \(scripts\/bundle\.js\), inputs as of \d/);
  }, 120_000);

  it('npm start on a clone without dist/: builds, serves from the package\'s files, SIGTERM to npm exits 0', async () => {
    await rm(path.join(app, 'dist'), { recursive: true, force: true });
    const home = path.join(dir, 'home');
    const tmp = path.join(dir, 'tmp');
    await mkdir(home, { recursive: true });
    await mkdir(tmp, { recursive: true });
    // a claude stand-in that answers with the files of the folder it runs in (its sandbox)
    const cli = path.join(dir, 'list-sandbox.mjs');
    await writeFile(
      cli,
      `#!/usr/bin/env node
import { readdirSync } from 'node:fs';
if (process.argv.includes('--version')) { console.log('2.1.197 (Claude Code)'); process.exit(0); }
process.stdin.resume();
process.stdin.on('end', () => {
  const text = readdirSync('.', { recursive: true }).sort().join(' ');
  const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
  const ev = (event) => out({ type: 'stream_event', event, session_id: 's', parent_tool_use_id: null });
  out({ type: 'system', subtype: 'init', cwd: process.cwd(), session_id: 's', tools: [], model: 'claude-opus-4-8' });
  ev({ type: 'message_start', message: { id: 'm', type: 'message', role: 'assistant', model: 'claude-opus-4-8', content: [], stop_reason: null, usage: { input_tokens: 1, output_tokens: 1 } } });
  ev({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
  ev({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } });
  ev({ type: 'content_block_stop', index: 0 });
  ev({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 1 } });
  ev({ type: 'message_stop' });
  out({ type: 'result', subtype: 'success', is_error: false, result: text, stop_reason: 'end_turn', session_id: 's', usage: { input_tokens: 1, output_tokens: 1 } });
});
`,
    );
    await chmod(cli, 0o755);
    const child = spawn('npm', ['start'], {
      cwd: app,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: home,
        TMPDIR: tmp,
        npm_config_update_notifier: 'false',
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        DATA_DIR: path.join(home, 'data'),
        ADMIN_PASSWORD: 'start-test-admin',
        CLAUDE_CLI_PATH: cli,
        CLAUDE_ALLOWED_TOOLS: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      // a group of its own: a failed test still takes the server with npm
      detached: true,
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        child.stdout.on('data', () => {
          const m = /"port":(\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        void exited.then((code) => reject(new Error(`npm start exited (${code}): ${out}`)));
      });
      const url = `http://127.0.0.1:${port}`;
      // it ran the bundle it built
      expect(await readFile(path.join(app, 'dist/main.js'), 'utf8')).toMatch(/^\/\/ cligate server bundle/);
      expect(existsSync(path.join(app, 'dist/server'))).toBe(false);

      expect((await fetchJson(`${url}/health`)).json).toMatchObject({ status: 'ok' });
      const admin = await fetch(`${url}/admin/`);
      expect(admin.status).toBe(200);
      expect(await admin.text()).toContain('<html');
      expect((await fetch(`${url}/admin/vendor/uPlot.iife.min.js`)).status).toBe(200);
      const listed = await fetchJson(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'claude-opus-4-8', messages: [{ role: 'user', content: 'list' }] }),
      });
      expect(listed.status, listed.text).toBe(200);
      // the sandbox was made from the package's sandbox/claude template
      expect(listed.json.choices[0].message.content).toContain('.claude/settings.json');

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out).toContain('"msg":"stopped"');
      expect(await readdir(tmp)).toEqual([]);
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
    }
  }, 120_000);
});
