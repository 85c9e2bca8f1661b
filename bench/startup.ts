/**
 * bench/startup: spawn to the first 200 from /health (polled every 5 ms over a fresh
 * connection), the commands taking turns, the median of RUNS each:
 *
 *  - `npm start`: scripts/start.js, which runs the server bundle (dist/main.js); the bundle is
 *    made current before each run, so a rebuild (after a source changed) is never what is timed;
 *  - the Docker image's command, as its Dockerfile says: the final stage's CMD (`node dist/main.js`)
 *    with its ENV (NODE_ENV=production, HOST, PORT, DATA_DIR ...; HOME, DATA_DIR and STATE_DIR
 *    moved to a temporary folder, PORT to a free one), run here without Docker;
 *  - for scale, what start-up cost before (issue 22): `node --import tsx src/main.ts` (the former
 *    `npm start`: tsx transforms each source as it loads) and the per-file compiled output of
 *    `tsc -p tsconfig.build.json` (no transform, but ~170 own and ~600 dependency modules
 *    resolved and loaded one by one; built into node_modules/.cache/cligate-bench-startup).
 *
 *   npm run bench:startup -- [runs=7]
 *
 * Target: `npm start` and the image's command answer /health within 1000 ms (PASS/FAIL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, readFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import { execa } from 'execa';
import { freePort } from '../tests/helpers/net.js';
// @ts-expect-error: a plain JavaScript module without types
import { currentBundle } from '../scripts/bundle.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const TARGET_MS = 1000;
const PER_FILE = path.join(ROOT, 'node_modules/.cache/cligate-bench-startup');

export interface StartCommand {
  name: string;
  cmd: string;
  args: string[];
  env?: Record<string, string>;
  /** held to the 1 s target */
  target?: boolean;
  /** run before each timed start (not timed) */
  before?: () => Promise<unknown>;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));
const exitOf = (c: ChildProcess) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));
const healthy = (port: number) =>
  new Promise<boolean>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/health', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('error', () => resolve(false));
  });

/** the final stage's CMD and ENV of the Dockerfile */
export async function dockerCommand(): Promise<{ argv: string[]; env: Record<string, string> }> {
  const ast = DockerfileParser.parse(await readFile(path.join(ROOT, 'Dockerfile'), 'utf8'));
  const finalStart = ast.getFROMs().at(-1)!.getRange().start.line;
  const final = ast.getInstructions().filter((i) => i.getRange().start.line >= finalStart);
  const env: Record<string, string> = {};
  for (const e of ast.getENVs().filter((i) => i.getRange().start.line >= finalStart)) for (const p of e.getProperties()) env[p.getName()] = p.getValue() ?? '';
  const cmd = final.filter((i) => i.getKeyword() === 'CMD').at(-1)!;
  return { argv: JSON.parse(cmd.getRawArgumentsContent()!) as string[], env };
}

/** the per-file compiled output, for comparison (package.json beside it: the package root is dist/..) */
async function buildPerFile(): Promise<string> {
  await rm(PER_FILE, { recursive: true, force: true });
  await mkdir(PER_FILE, { recursive: true });
  await execa(path.join(ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json', '--outDir', path.join(PER_FILE, 'dist')], { cwd: ROOT, reject: false });
  await copyFile(path.join(ROOT, 'package.json'), path.join(PER_FILE, 'package.json'));
  return path.join(PER_FILE, 'dist/main.js');
}

/** the start commands measured: npm start and the image's, held to the target; and the two before */
export async function startCommands(): Promise<StartCommand[]> {
  const docker = await dockerCommand();
  const [bin, ...args] = docker.argv;
  return [
    { name: 'npm start', cmd: 'npm', args: ['start'], target: true, before: currentBundle },
    { name: `image: ${docker.argv.join(' ')}`, cmd: bin === 'node' ? process.execPath : bin!, args, env: docker.env, target: true, before: currentBundle },
    { name: 'node --import tsx src/main.ts (before)', cmd: process.execPath, args: ['--import', 'tsx', 'src/main.ts'] },
    { name: 'per-file tsc output (before)', cmd: process.execPath, args: [await buildPerFile()] },
  ];
}

/** each command `runs` times, taking turns; the times in ms, by name */
export async function measureStartup(commands: StartCommand[], runs: number): Promise<Map<string, number[]>> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'cligate-bench-startup-'));
  const times = new Map<string, number[]>(commands.map((c) => [c.name, []]));
  try {
    for (let i = 0; i < runs; i++) {
      for (const c of commands) {
        await c.before?.();
        const port = await freePort();
        const dataDir = path.join(home, `run-${i}`);
        const env = {
          PATH: process.env.PATH ?? '',
          npm_config_update_notifier: 'false',
          LOG_LEVEL: 'warn',
          ...c.env,
          HOME: home,
          DATA_DIR: dataDir,
          STATE_DIR: path.join(dataDir, 'state'),
          PORT: String(port),
          ...(c.env?.HOST ? {} : { HOST: '127.0.0.1' }),
        };
        const t0 = performance.now();
        const child = spawn(c.cmd, c.args, { cwd: ROOT, env, stdio: 'ignore', detached: true });
        let exited = false;
        void exitOf(child).then(() => (exited = true));
        while (!(await healthy(port))) {
          if (exited) throw new Error(`${c.name} exited before answering /health`);
          await sleep(5);
        }
        times.get(c.name)!.push(performance.now() - t0);
        process.kill(-child.pid!, 'SIGTERM');
        await exitOf(child);
      }
    }
  } finally {
    await rm(home, { recursive: true, force: true });
  }
  return times;
}

/** the table, with PASS/FAIL for the commands held to the target; the medians by name */
export function printStartup(commands: StartCommand[], times: Map<string, number[]>, runs: number): Record<string, number> {
  console.log(`\nstart-up, spawn to the first /health 200 (median of ${runs}, the commands taking turns; ${os.availableParallelism()} cores, load ${os.loadavg()[0]!.toFixed(2)}):`);
  const medians: Record<string, number> = {};
  for (const c of commands) {
    const t = times.get(c.name)!;
    const m = Math.round(median(t));
    medians[c.name] = m;
    const verdict = c.target ? `  target ≤ ${TARGET_MS} ms: ${m <= TARGET_MS ? 'PASS' : 'FAIL'}` : '';
    console.log(`  ${c.name.padEnd(40)} ${String(m).padStart(5)} ms${verdict}   [${t.map(Math.round).join(' ')}]`);
  }
  return medians;
}

/** the whole bench (bench/lifecycle runs it too): the table; whether the commands held to the target met it */
export async function runStartupBench(runs: number): Promise<boolean> {
  const commands = await startCommands();
  try {
    const times = await measureStartup(commands, runs);
    const medians = printStartup(commands, times, runs);
    console.log(`\nSTARTUP ${JSON.stringify({ runs, node: process.version, medians })}`);
    return commands.every((c) => !c.target || medians[c.name]! <= TARGET_MS);
  } finally {
    await rm(PER_FILE, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  runStartupBench(Number(process.argv[2] ?? 7)).then((pass) => {
    if (!pass) process.exitCode = 1;
  }, (err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
