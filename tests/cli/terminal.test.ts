/**
 * Starting cligate at a terminal, the way issue 24 found `npm run dev` looping: the real commands on a
 * pseudo-terminal (tests/helpers/pty.ts), keys typed at it, /health asked from outside.
 *
 * - `npm run dev` never asks about an API key (a watcher would ask again at every restart), Return
 *   restarts nothing, and Ctrl-C ends it with no process left;
 * - a restart on a file change starts again without asking;
 * - the first start at a terminal (what `npm start` execs) asks once; Return means no key, "y" a
 *   generated key; either answer is written to .env, so the next start does not ask, and SIGTERM ends it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../helpers/claude-env.js';
import { freePort } from '../helpers/net.js';
import { alive, descendants, hasScript, killTree, spawnPty as spawnPtyOnce, type Pty } from '../helpers/pty.js';

const QUESTION = /Enable API key protection\? \(y\/N\)/;
const LISTENING = /cligate listening on 127\.0\.0\.1:(\d+)/g;
// `--import tsx` resolves from the current directory; these runs start in a throwaway one
const TSX = pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const MAIN = path.join(ROOT, 'src/main.ts');

let home: string;
const runs: Pty[] = [];
/** every run is ended after its test, also when the test failed half-way */
const spawnPty = (...args: Parameters<typeof spawnPtyOnce>) => {
  const pty = spawnPtyOnce(...args);
  runs.push(pty);
  return pty;
};
afterEach(() => {
  for (const pty of runs.splice(0)) killTree(pty);
});
beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'cligate-terminal-'));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

/** the environment of a person's shell: no API_KEY, nothing that says "not interactive" */
function shellEnv(port: number, extra: Record<string, string> = {}): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const k of Object.keys(env)) if (/^(npm_|VITEST|CI$|NODE_ENV$|API_KEY$|LOG_FORMAT$|WATCH_REPORT_DEPENDENCIES$|NO_COLOR$|FORCE_COLOR$)/.test(k)) delete env[k];
  return { ...env, HOME: home, DATA_DIR: path.join(home, 'data'), PORT: String(port), HOST: '127.0.0.1', TERM: 'xterm-256color', npm_config_update_notifier: 'false', ...extra };
}

async function health(port: number): Promise<number> {
  return fetch(`http://127.0.0.1:${port}/health`).then((r) => r.status, () => 0);
}

async function answersHealth(port: number, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if ((await health(port)) === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`/health on ${port} never answered`);
}

/** the node process running the server (not the shell script started it with) */
const server = (tree: { pid: number; cmd: string }[]) => tree.filter((p) => /^\S*node /.test(p.cmd) && p.cmd.includes('src/main.ts')).at(-1)!;

const count = (text: string, re: RegExp) => [...text.matchAll(new RegExp(re.source, 'g'))].length;

/** ends the run with `stop`, then checks that every process it had started is gone */
async function endsCleanly(pty: Pty, stop: (tree: { pid: number; cmd: string }[]) => void): Promise<number | null> {
  const tree = descendants(pty.pid);
  expect(tree.some((p) => p.cmd.includes('src/main.ts') || p.cmd.includes('entry.mjs'))).toBe(true);
  stop(tree);
  const code = await Promise.race([pty.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000))]);
  expect(code, `still running after the stop:\n${pty.text().slice(-2000)}`).not.toBe('hung');
  // the tree is gone, not orphaned
  await new Promise((r) => setTimeout(r, 200));
  expect(tree.filter((p) => alive(p.pid))).toEqual([]);
  return code as number | null;
}

describe.skipIf(!hasScript())('at a terminal', () => {
  it('`npm run dev` starts without asking, Return restarts nothing, Ctrl-C ends it with no process left', async () => {
    const port = await freePort();
    const pty = spawnPty('npm run dev', { cwd: ROOT, env: shellEnv(port) });
    await pty.waitFor(/cligate listening/, 60_000);
    await answersHealth(port);
    // what made `tsx watch` restart (and ask again) forever
    pty.type('\r');
    await new Promise((r) => setTimeout(r, 2000));
    await pty.settle();
    expect(pty.text()).not.toMatch(QUESTION);
    expect(count(pty.text(), LISTENING)).toBe(1);
    expect(pty.text()).not.toMatch(/Restarting/);
    expect(await health(port)).toBe(200);
    await endsCleanly(pty, () => pty.type('\x03'));
    expect(await health(port)).toBe(0);
  }, 120_000);

  it('a restart on a file change (node --watch, as `npm run dev` runs it) starts again without asking', async () => {
    const port = await freePort();
    const cwd = await mkdtemp(path.join(home, 'watch-'));
    const entry = path.join(cwd, 'entry.mjs');
    await writeFile(entry, `import ${JSON.stringify(pathToFileURL(MAIN).href)};\n`);
    const pty = spawnPty(`node --watch --import ${TSX} entry.mjs`, { cwd, env: shellEnv(port) });
    await pty.waitFor(/cligate listening/, 60_000);
    await answersHealth(port);
    await pty.settle();
    const mark = pty.text().length;
    const now = new Date();
    await utimes(entry, now, now);
    await pty.waitFor(/Restarting 'entry\.mjs'[\s\S]*cligate listening/, 60_000, mark);
    await answersHealth(port);
    await pty.settle();
    expect(pty.text()).not.toMatch(QUESTION);
    expect(count(pty.text(), LISTENING)).toBe(2);
    // nothing was asked, so nothing was written
    await expect(readFile(path.join(cwd, '.env'), 'utf8')).rejects.toThrow(/ENOENT/);
    await endsCleanly(pty, () => pty.type('\x03'));
  }, 120_000);

  it('the first start asks once; Return means no key, kept in .env; the next start does not ask; SIGTERM ends it', async () => {
    const port = await freePort();
    const cwd = await mkdtemp(path.join(home, 'first-'));
    const start = () => spawnPty(`node --import ${TSX} ${MAIN}`, { cwd, env: shellEnv(port) });
    const first = start();
    await first.waitFor(QUESTION, 60_000);
    expect(await health(port)).toBe(0);
    first.type('\r');
    await first.waitFor(/cligate listening/, 60_000);
    await answersHealth(port);
    await first.settle();
    expect(count(first.text(), QUESTION)).toBe(1);
    expect(first.text()).toMatch(/No key\. Saved as API_KEY= \(empty\) in .*\.env; not asked again/);
    expect(await readFile(path.join(cwd, '.env'), 'utf8')).toMatch(/^API_KEY=$/m);
    expect((await fetch(`http://127.0.0.1:${port}/v1/models`)).status).toBe(200);
    // what a process manager sends
    expect(await endsCleanly(first, (tree) => process.kill(server(tree).pid, 'SIGTERM'))).toBe(0);

    const second = start();
    await second.waitFor(/cligate listening/, 60_000);
    await answersHealth(port);
    await second.settle();
    expect(second.text()).not.toMatch(QUESTION);
    expect(second.text()).toMatch(/WARN.*API_KEY is not set/);
    await endsCleanly(second, () => second.type('\x03'));
  }, 120_000);

  it('"y" generates a key that the server requires at once and keeps in .env', async () => {
    const port = await freePort();
    const cwd = await mkdtemp(path.join(home, 'yes-'));
    await writeFile(path.join(cwd, '.env'), 'LOG_LEVEL=info');
    const pty = spawnPty(`node --import ${TSX} ${MAIN}`, { cwd, env: shellEnv(port) });
    await pty.waitFor(QUESTION, 60_000);
    pty.type('y\r');
    const [, key] = await pty.waitFor(/^ {2}(sk-cligate-[\w-]{32})$/m, 30_000);
    await pty.waitFor(/cligate listening/, 60_000);
    await answersHealth(port);
    const dotenv = await readFile(path.join(cwd, '.env'), 'utf8');
    // appended on a line of its own, the earlier settings kept
    expect(dotenv).toMatch(/^LOG_LEVEL=info\n/);
    expect(dotenv).toMatch(new RegExp(`^API_KEY=${key}$`, 'm'));
    expect((await fetch(`http://127.0.0.1:${port}/v1/models`)).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${port}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
    expect(pty.text()).not.toMatch(/API_KEY is not set/);
    await endsCleanly(pty, () => pty.type('\x03'));
  }, 120_000);
});
