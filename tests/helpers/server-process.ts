/** Runs cligate as its own process (`node --import tsx src/main.ts`), as `npm start` does. */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './claude-env.js';

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  /** everything the server wrote to stdout and stderr so far */
  output(): string;
}

/** Starts the server on a free port; LOG_LEVEL must let the "listening" info line through. */
export async function spawnServer(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main.ts')], {
    cwd: ROOT,
    // the account store goes in the test HOME (HOME is always a throwaway one here)
    env: { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', RATE_LIMIT_ENABLED: 'false', ...(env.HOME ? { DATA_DIR: path.join(env.HOME, 'data') } : {}), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // its output joins the run log, which is scanned for secrets at the end
  void exited.then(() => process.env.CLIGATE_RUN_LOG && appendFileSync(process.env.CLIGATE_RUN_LOG, out.endsWith('\n') || !out ? out : `${out}\n`));
  let out = '';
  // read all along, so the pipe never fills
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const onData = () => {
      const m = /"port":(\d+)/.exec(out);
      if (!m) return;
      resolve(Number(m[1]));
      child.stdout!.off('data', onData);
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => reject(new Error(`server exited early (${code}): ${out}`)));
  });
  return { url: `http://127.0.0.1:${port}`, child, exited, output: () => out };
}
