/**
 * The warm pool with scripted CLIs (node scripts that boot for a while, then read stdin the way
 * the vendor CLIs do): a process is handed out only once it waits on its stdin, a request that
 * comes while its shape boots waits for that process, the shape's files are in its sandbox before
 * it starts, a stdin head keeps a CLI that gives up on an empty stdin waiting, a process that dies
 * while booting (or never reads its stdin) is never handed out and frees its slot, booting ones give
 * their slot to a request, and close() leaves no process or sandbox.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WarmPool, type WarmProcess, type WarmSpec } from '../../src/runtime/warm-pool.js';
import { WorkerPool } from '../../src/runtime/pool.js';
import { liveProcessCount } from '../../src/runtime/process.js';
import { liveSandboxes } from '../../src/runtime/sandbox.js';
import { backgroundSettled } from '../../src/runtime/background.js';
import { canWatchStdin, stdinOf, StdinWatch } from '../../src/runtime/stdin-wait.js';
import { waitFor } from '../helpers/server.js';

let templateDir: string;
beforeAll(async () => {
  templateDir = await mkdtemp(path.join(tmpdir(), 'cligate-warm-test-'));
  await mkdir(path.join(templateDir, 'fake'));
});
afterAll(() => rm(templateDir, { recursive: true, force: true }));

/** boots (busy) for bootMs, prints the shape's file, then reads stdin to its end and prints it */
const cli = (bootMs: number, opts: { giveUpMs?: number; exitCode?: number } = {}) => `
  const fs = require('node:fs');
  const until = Date.now() + ${bootMs}; while (Date.now() < until);
  ${opts.exitCode !== undefined ? `process.stderr.write('cannot start: no login\\n'); process.exit(${opts.exitCode});` : ''}
  let data = '';
  // like the Gemini CLI's readStdin: nothing within giveUpMs and it answers without stdin
  const timer = ${opts.giveUpMs ?? 0} ? setTimeout(() => { console.log('gave up'); process.exit(0); }, ${opts.giveUpMs ?? 0}) : undefined;
  process.stdin.setEncoding('utf8');
  process.stdin.on('readable', () => { let c; while ((c = process.stdin.read()) !== null) { clearTimeout(timer); data += c; } });
  process.stdin.on('end', () => {
    console.log(JSON.stringify({ stdin: data, file: fs.existsSync('system.md') ? fs.readFileSync('system.md', 'utf8') : null }));
  });
`;

const spec = (script: string, extra: Partial<WarmSpec> = {}): WarmSpec => ({
  command: process.execPath,
  args: ['-e', script],
  env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  template: 'fake',
  ...extra,
});

let errors: unknown[] = [];
let warm: WarmPool | undefined;
let pool: WorkerPool;

function setUp(concurrency = 2, size = 1, bootTimeoutMs?: number): WarmPool {
  errors = [];
  warm = new WarmPool({ size, idleMs: 60_000, templateDir, onError: (e) => errors.push(e), checkEveryMs: 5, ...(bootTimeoutMs ? { bootTimeoutMs } : {}) });
  pool = new WorkerPool({ concurrency, queueLimit: 10, queueTimeoutMs: 20_000, reclaim: () => warm!.reclaim() });
  warm.attach(pool);
  return warm;
}

afterEach(async () => {
  await warm?.close();
  await pool?.drain(0);
  await backgroundSettled();
  expect(liveProcessCount()).toBe(0);
  expect(liveSandboxes()).toEqual([]);
});

/** gives the taken process its prompt and returns what it printed */
async function answer(w: WarmProcess, prompt: string): Promise<{ stdin: string; file: string | null }> {
  w.run.send(prompt, new AbortController().signal, 10_000);
  const lines: string[] = [];
  for await (const l of w.run.lines()) lines.push(l);
  await w.run.exit;
  w.release();
  await w.sandbox.cleanup();
  return JSON.parse(lines.at(-1)!);
}

const never = new AbortController().signal;

describe.runIf(canWatchStdin())('warm pool', () => {
  it('a request that comes while its shape boots waits for that process, handed out only once it waits on stdin', async () => {
    const w = setUp();
    const s = spec(cli(800));
    w.want(s);
    expect(await waitFor(() => w.stats().starting === 1 && liveProcessCount() === 1, 10_000)).toBe(true);
    const taken = await w.take(s, never);
    expect(taken).toBeDefined();
    // at hand-out the CLI is reading its stdin: its start-up is over
    expect(new StdinWatch(taken!.run.pid!, stdinOf(taken!.run.pid!)!).waiting()).toBe(true);
    expect(taken!.waited).toBe(true);
    expect(taken!.bootMs).toBeGreaterThan(0);
    expect(w.stats()).toMatchObject({ idle: 0, starting: 0, hits: 0, waited: 1 });
    expect((await answer(taken!, 'hi')).stdin).toBe('hi');
  });

  it('a ready process is handed out at once; its files were written before it started, its stdin head before the prompt', async () => {
    const w = setUp();
    const s = spec(cli(100, { giveUpMs: 300 }), { files: [{ path: 'system.md', data: 'Be terse.' }], stdinHead: '\n' });
    w.want(s);
    expect(await waitFor(() => w.stats().idle === 1, 10_000)).toBe(true);
    // longer than the CLI waits for a first chunk of stdin: the head keeps it waiting
    await new Promise((r) => setTimeout(r, 700));
    expect(w.stats().idle).toBe(1);
    const taken = await w.take(s, never);
    expect(taken?.waited).toBe(false);
    expect(w.stats()).toMatchObject({ idle: 0, hits: 1, waited: 0 });
    expect(await answer(taken!, 'the prompt')).toEqual({ stdin: '\nthe prompt', file: 'Be terse.' });
    // another shape (other files) is not served by it
    expect(await w.take(spec(cli(100, { giveUpMs: 300 }), { files: [{ path: 'system.md', data: 'Be verbose.' }], stdinHead: '\n' }), never)).toBeUndefined();
  });

  it('a process that exits while booting is never handed out; the error says which CLI and why; its slot and sandbox are freed', async () => {
    const w = setUp();
    const s = spec(cli(300, { exitCode: 3 }));
    w.want(s);
    expect(await waitFor(() => w.stats().starting === 1 && liveProcessCount() === 1, 10_000)).toBe(true);
    expect(await w.take(s, never)).toBeUndefined();
    expect(await waitFor(() => errors.length === 1, 10_000)).toBe(true);
    expect(String(errors[0])).toMatch(/warm node exited before it was ready for its prompt \(exit code 3\): cannot start: no login/);
    expect(await waitFor(() => pool.stats().running === 0 && w.stats().starting === 0, 10_000)).toBe(true);
  });

  it('a process never seen waiting on its stdin is killed after the boot timeout, with an error that says so; a missing command says which', async () => {
    const w = setUp(2, 1, 1000);
    w.want(spec('setInterval(() => {}, 1000)'));
    expect(await waitFor(() => errors.length === 1, 10_000)).toBe(true);
    expect(String(errors[0])).toMatch(/a warm node was not waiting for its prompt after 1 s: killed/);
    expect(await waitFor(() => liveProcessCount() === 0 && pool.stats().running === 0, 10_000)).toBe(true);
    w.want({ ...spec(''), command: '/nonexistent/cli' });
    expect(await waitFor(() => errors.length === 2, 10_000)).toBe(true);
    expect(String(errors[1])).toMatch(/a warm cli exited before it was ready for its prompt \(\/nonexistent\/cli: ENOENT\)/);
    expect(await waitFor(() => pool.stats().running === 0, 10_000)).toBe(true);
  });

  it('a booting process gives its worker slot to a request that would queue; a request that leaves while waiting for a boot gets nothing', async () => {
    const w = setUp(1);
    const s = spec(cli(30_000));
    w.want(s);
    expect(await waitFor(() => w.stats().starting === 1 && liveProcessCount() === 1, 10_000)).toBe(true);
    // a request that waits for the booting process and leaves
    const ctl = new AbortController();
    const waiting = w.take(s, ctl.signal);
    ctl.abort();
    expect(await waiting).toBeUndefined();
    // the only slot is the booting process's: a request of another shape takes it over
    const release = await pool.acquire(never);
    expect(await waitFor(() => liveProcessCount() === 0, 10_000)).toBe(true);
    expect(w.stats().starting).toBe(0);
    release();
  });

  it('close() kills ready and booting processes and removes their sandboxes', async () => {
    const w = setUp(3);
    w.want(spec(cli(50)));
    w.want(spec(cli(30_000)));
    expect(await waitFor(() => w.stats().idle === 1 && w.stats().starting === 1, 10_000)).toBe(true);
    await w.close();
    expect(liveProcessCount()).toBe(0);
    expect(w.enabled).toBe(false);
    expect(errors).toEqual([]);
  });
});
