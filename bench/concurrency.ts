/**
 * bench/concurrency: 64 concurrent streaming requests through a pool of 4 CLI workers
 * (a stand-in claude CLI that answers after a short hold). Every request must be served,
 * the CLIs must start in the order the requests arrived (FIFO), and nothing may be left:
 * no CLI process, no sandbox. Prints wall time, peak RSS of the server, and the checks.
 *
 *   npm run bench:concurrency -- [requests=64] [holdMs=200]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitUntilUp } from '../tests/helpers/net.js';

const N = Number(process.argv[2] ?? 64);
const HOLD = Number(process.argv[3] ?? 200);
const ROOT = path.resolve(import.meta.dirname, '..');

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

async function main() {
  const home = await mkdtemp(path.join(os.tmpdir(), 'cligate-bench-conc-'));
  const log = path.join(home, 'starts.log');
  await writeFile(log, '');
  const port = await freePort();
  const server = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main.ts')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      HOME: home, PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', DATA_DIR: path.join(home, 'data'), LOG_LEVEL: 'debug', RATE_LIMIT_ENABLED: 'false',
      CLAUDE_CLI_PATH: path.join(ROOT, 'tests/fakes/bin/fake-claude.mjs'), CLAUDE_ALLOWED_TOOLS: '', WORKER_CONCURRENCY: '4', QUEUE_LIMIT: String(N),
    },
  });
  const url = `http://127.0.0.1:${port}`;
  // whatever happens, the server and its folder go
  process.on('exit', () => server.kill('SIGKILL'));
  const cleanup = () => rm(home, { recursive: true, force: true });
  // the server's own record of when each request got its worker ("worker granted", by request id)
  let out = '';
  server.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await waitUntilUp(`${url}/health`, 'server').catch(async (err: unknown) => {
    await cleanup();
    throw err;
  });
  let peak = rssOf(server.pid!);
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf(server.pid!))), 20);

  const t0 = performance.now();
  const arrivals: number[] = [];
  const results = await Promise.all(
    Array.from({ length: N }, async (_, i) => {
      // arrivals spaced a little, so "the order they came in" is well defined
      await new Promise((r) => setTimeout(r, i * 3));
      arrivals.push(i);
      const res = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': `seq-${i}` },
        body: JSON.stringify({ model: 'claude-sonnet-4-5', stream: true, messages: [{ role: 'user', content: `request [[seq:${i}]] [[hold:${HOLD}]] [[log:${log}]]` }] }),
      });
      const text = await res.text();
      return res.status === 200 && text.includes('soak') && text.includes('[DONE]');
    }),
  );
  const wall = performance.now() - t0;
  clearInterval(sampler);

  // FIFO is the order workers were granted (the server's log); the CLIs' own start times add process start-up jitter
  const granted = out
    .split('\n')
    .filter((l) => l.includes('"worker granted"'))
    .map((l) => Number(/"requestId":"seq-(\d+)"/.exec(l)?.[1]));
  const inversions = granted.filter((s, i) => i > 0 && s < granted[i - 1]!).length;
  const starts = (await readFile(log, 'utf8')).trim().split('\n').map((l) => Number(l.split(' ')[0]));
  const cliStartInversions = starts.filter((s, i) => i > 0 && s < starts[i - 1]!).length;
  const health = (await (await fetch(`${url}/health`)).json()) as { cliProcesses: number; sandboxes: number };
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  const report = {
    requests: N,
    workers: 4,
    holdMs: HOLD,
    served: results.filter(Boolean).length,
    wallMs: Math.round(wall),
    idealMs: Math.ceil(N / 4) * HOLD,
    grantedInArrivalOrder: inversions === 0 && granted.length === N,
    grantOrderInversions: inversions,
    cliSelfReportedStartInversions: cliStartInversions,
    peakRssMB: Math.round(peak / 1e5) / 10,
    cliProcessesLeft: health.cliProcesses,
    sandboxesLeft: health.sandboxes,
  };
  console.log(`CONCURRENCY ${JSON.stringify(report)}`);
  await cleanup();
  if (report.served !== N || !report.grantedInArrivalOrder || report.cliProcessesLeft || report.sandboxesLeft) process.exit(1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
