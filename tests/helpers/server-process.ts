/**
 * Runs cligate as its own process: `node --import tsx src/main.ts`, the sources as `npm run dev`
 * runs them (`npm start` runs the same code bundled, scripts/start.js); or `npm start` /
 * `npm run dev` itself (`npm: 'start' | 'dev'`), in a process group of its own as a terminal
 * would start it, for tests of signals sent to npm or to the whole group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './claude-env.js';

export interface ServerProcess {
  url: string;
  /** the process started: the server, or npm */
  child: ChildProcess;
  /** the server's own pid (npm's child when started through npm) */
  serverPid: number;
  exited: Promise<number | null>;
  /** everything the server wrote to stdout and stderr so far */
  output(): string;
}

/** Starts the server on a free port; LOG_LEVEL must let the "listening" info line through. */
export async function spawnServer(env: Record<string, string>, opts: { npm?: 'start' | 'dev' } = {}): Promise<ServerProcess> {
  // the account store goes in the test HOME (HOME is always a throwaway one here)
  const fullEnv = { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', RATE_LIMIT_ENABLED: 'false', ...(env.HOME ? { DATA_DIR: path.join(env.HOME, 'data') } : {}), ...env };
  const child = opts.npm
    ? spawn('npm', ['run', opts.npm], {
        cwd: ROOT,
        // npm asks the registry whether it is outdated unless told not to
        env: { npm_config_update_notifier: 'false', ...fullEnv },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      })
    : spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main.ts')], { cwd: ROOT, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // its output joins the run log, which is scanned for secrets at the end
  void exited.then(() => process.env.CLIGATE_RUN_LOG && appendFileSync(process.env.CLIGATE_RUN_LOG, out.endsWith('\n') || !out ? out : `${out}\n`));
  let out = '';
  // read all along, so the pipe never fills
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const [port, serverPid] = await new Promise<[number, number]>((resolve, reject) => {
    const onData = () => {
      const line = /^.*"port":(\d+).*$/m.exec(out);
      if (!line) return;
      resolve([Number(line[1]), Number(/"pid":(\d+)/.exec(line[0])?.[1] ?? child.pid)]);
      child.stdout!.off('data', onData);
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => reject(new Error(`server exited early (${code}): ${out}`)));
  });
  return { url: `http://127.0.0.1:${port}`, child, serverPid, exited, output: () => out };
}
