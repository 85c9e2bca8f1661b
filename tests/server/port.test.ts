/**
 * The listen port: --port / --host on the command line (over PORT / HOST), the next free port when
 * the port nobody chose is taken, and a one-line error (exit code 2, no stack) when a chosen port is.
 * Real occupied ports; the real `node --import tsx src/main.ts` process where the command line matters.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { ROOT } from '../helpers/claude-env.js';
import { freePort } from '../helpers/net.js';
import { portIsExplicit, readCommandLine } from '../../src/command-line.js';
import { loadConfig } from '../../src/config.js';
import { ListenError, startServer } from '../../src/server/start.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** a port held by another listener on 127.0.0.1 until the test ends */
async function occupied(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => s.close(r)));
  return (s.address() as net.AddressInfo).port;
}

async function tempHome(): Promise<string> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'cligate-port-'));
  cleanups.push(() => rm(home, { recursive: true, force: true }));
  return home;
}

interface Run {
  child: ChildProcess;
  output(): string;
  /** the port of the "listening" line, or the exit code when it exited first */
  ready: Promise<{ port: number } | { exit: number | null }>;
}

/** `node --import tsx src/main.ts ...args` with only `env` (no PORT unless given): the sources `npm start` runs bundled */
async function main(args: string[], env: Record<string, string>): Promise<Run> {
  const home = await tempHome();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main.ts'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: home, DATA_DIR: path.join(home, 'data'), RATE_LIMIT_ENABLED: 'false', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  });
  const ready = new Promise<{ port: number } | { exit: number | null }>((resolve) => {
    const look = () => {
      const line = out.split('\n').find((l) => l.includes('"msg":"cligate listening'));
      const port = line && /"port":(\d+)/.exec(line);
      if (port) resolve({ port: Number(port[1]) });
    };
    child.stdout!.on('data', look);
    void exited.then((exit) => resolve({ exit }));
  });
  return { child, output: () => out, ready };
}

describe('the command line', () => {
  it.each([
    [['--port', '9000'], { PORT: '9000' }],
    [['--port=9000'], { PORT: '9000' }],
    [['-p', '9000'], { PORT: '9000' }],
    [['9000'], { PORT: '9000' }], // clis-wrapper: python main.py 9000
    [['--host', '127.0.0.1', '--port', '0'], { HOST: '127.0.0.1', PORT: '0' }],
    [['--host=::1'], { HOST: '::1' }],
    [[], {}],
  ])('%j', (args, env) => {
    expect(readCommandLine(args)).toEqual({ env, help: false });
  });

  it('refuses what it cannot use, naming it', () => {
    expect(() => readCommandLine(['--port', 'eighty'])).toThrow(/^--port: 'eighty' is not a port number/);
    expect(() => readCommandLine(['--port=70000'])).toThrow(/--port: '70000'/);
    expect(() => readCommandLine(['--prot', '9000'])).toThrow(/--prot/);
    expect(() => readCommandLine(['--port', '9000', '9001'])).toThrow(/Unexpected argument '9001'/);
    expect(() => readCommandLine(['--host='])).toThrow(/--host/);
  });

  it('the port is chosen by --port or by PORT (environment or .env); an empty PORT chooses nothing', () => {
    expect(portIsExplicit(readCommandLine([]), {})).toBe(false);
    expect(portIsExplicit(readCommandLine([]), { PORT: '' })).toBe(false);
    expect(portIsExplicit(readCommandLine([]), { PORT: '8000' })).toBe(true);
    expect(portIsExplicit(readCommandLine(['--port', '8000']), {})).toBe(true);
  });
});

describe('a port in use', () => {
  it('not chosen: the next free port is used, with a log line saying so', async () => {
    const taken = await occupied();
    const home = await tempHome();
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
    const config = loadConfig({ PORT: String(taken), HOST: '127.0.0.1', DATA_DIR: path.join(home, 'data'), STATE_DIR: path.join(home, 'state'), RATE_LIMIT_ENABLED: 'false' });
    const server = await startServer(config, log, { HOME: home, PATH: process.env.PATH ?? '' }, { portFallback: 10 });
    cleanups.push(() => server.close(0));
    expect(server.port).toBeGreaterThan(taken);
    expect(server.port).toBeLessThanOrEqual(taken + 10);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const notice = lines.map((l) => JSON.parse(l) as { msg: string; port?: number; listening?: number }).find((l) => l.msg.includes('is in use'));
    expect(notice).toMatchObject({ msg: `port ${taken} is in use; listening on ${server.port}`, port: taken, listening: server.port });
  });

  it('chosen with PORT: start-up stops with a one-line error and exit code 2, no stack trace', async () => {
    const taken = await occupied();
    const run = await main([], { PORT: String(taken), HOST: '127.0.0.1' });
    expect(await run.ready).toEqual({ exit: 2 });
    expect(run.output()).toContain(`cligate cannot start: port ${taken} on 127.0.0.1 is in use (chosen with PORT or --port)`);
    expect(run.output()).not.toMatch(/\n\s+at /);
  });

  it('chosen with --port: the same, even where PORT names a free port', async () => {
    const taken = await occupied();
    const run = await main(['--port', String(taken)], { PORT: String(await freePort()), HOST: '127.0.0.1' });
    expect(await run.ready).toEqual({ exit: 2 });
    expect(run.output()).toContain(`port ${taken} on 127.0.0.1 is in use`);
    expect(run.output()).not.toMatch(/\n\s+at /);
  });
});

describe('npm start -- --port', () => {
  it('--port=N and --host win over PORT and HOST', async () => {
    const port = await freePort();
    // PORT names a port in use and HOST an address that is not this machine's: both would fail
    const run = await main([`--port=${port}`, '--host', '127.0.0.1'], { PORT: String(await occupied()), HOST: '192.0.2.1' });
    expect(await run.ready).toEqual({ port });
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
  });

  it('a bad argument stops start-up with the usage and exit code 2', async () => {
    const run = await main(['--port', 'eighty'], {});
    expect(await run.ready).toEqual({ exit: 2 });
    expect(run.output()).toContain("--port: 'eighty' is not a port number");
    expect(run.output()).toContain('Usage: npm start -- [--port N] [--host ADDRESS]');
  });
});

describe("clis-wrapper's names in the real process", () => {
  it('one notice line each at start; DEBUG_MODE=true serves /v1/debug/request', async () => {
    const port = await freePort();
    const run = await main(['--port', String(port), '--host', '127.0.0.1'], { LOG_LEVEL: '', DEBUG_MODE: 'true', PROGRESS_STYLE: 'spinner', RATE_LIMIT_SESSION_PER_MINUTE: '15', RATE_LIMIT_PER_MINUTE: '9' });
    expect(await run.ready).toEqual({ port });
    const notices = run
      .output()
      .split('\n')
      .filter((l) => l.includes('"legacyEnv"'))
      .map((l) => JSON.parse(l) as { legacyEnv: string; cligate: string | null; msg: string });
    expect(notices.map((n) => n.legacyEnv).sort()).toEqual(['DEBUG_MODE', 'PROGRESS_STYLE', 'RATE_LIMIT_PER_MINUTE', 'RATE_LIMIT_SESSION_PER_MINUTE']);
    expect(notices.find((n) => n.legacyEnv === 'DEBUG_MODE')).toMatchObject({ cligate: 'LOG_LEVEL', msg: expect.stringContaining('read as LOG_LEVEL=debug') });
    expect(notices.find((n) => n.legacyEnv === 'RATE_LIMIT_PER_MINUTE')).toMatchObject({ cligate: 'RATE_LIMIT_MODELS_PER_MINUTE' });
    const res = await fetch(`http://127.0.0.1:${port}/v1/debug/request?model=claude-sonnet-4-5`);
    expect(res.status).toBe(200);
  });
});
