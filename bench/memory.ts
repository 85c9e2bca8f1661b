/**
 * bench/memory: resident memory (VmRSS of the server process) of cligate, run as `npm start`
 * runs it (scripts/start.js), and of the peers on the same fast fake upstream, one at a time,
 * each through the same phases:
 *
 *  1. idle: started, one request answered, settled SETTLE_MS;
 *  2. relay run: a warm-up of 10,000 requests, settle, RSS before; 10,000 requests (5,000
 *     non-stream, then 5,000 streams, 16 connections), settle, RSS after; the ratio after/before
 *     (target for cligate ≤ 1.05: no growth across the run);
 *  3. 64 concurrent streams: 64 streaming requests open at once (the upstream's "bench-slow"
 *     model sends a part every 300 ms, ~2.4 s a stream), the highest RSS seen while all 64 are open;
 *  4. 2,000 idle keep-alive connections: each has had one answer and stays open; RSS with all
 *     of them open.
 *
 * Each server runs with --expose-gc and bench/lib/gc-on-message.mjs preloaded, and is started
 * with an IPC channel: before each reading but the streams' (idle, before and after the relay
 * run, with the idle connections open) the bench asks it for two full garbage collections, so the
 * figure is what the process retains rather than garbage not collected yet (without them the
 * same run read anywhere from 1.01 to 1.5 after/before, depending on where the collector was).
 * The relay run's peak RSS (sampled every 50 ms, no collection) and the JavaScript heap in use
 * after the collections are printed too. The warm-up is as long as the run: cligate's RSS still
 * creeps over its first ~10,000 requests (measured every 2,500 requests over 40,000 on the
 * Anthropic path: 155, 155, 157, 158, 158, 159, 158, 159, 159 ... 160 MB).
 *
 * Targets: cligate on the OpenAI path (openai-compatible provider) and on the Anthropic path
 * (/v1/messages → the same provider); the bare node relay (bench/lib/bare-proxy.mjs, the floor);
 * @portkey-ai/gateway (OpenAI path; it cannot stream on Node 20, so its relay run is 10,000
 * non-stream requests and it has no stream figure); @musistudio/claude-code-router 2.0.0
 * (Anthropic path, config under a temporary HOME, logging off).
 *
 *   npm run bench:memory -- [settleMs=3000]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { freePort, waitUntilUp } from '../tests/helpers/net.js';

const SETTLE_MS = Number(process.argv[2] ?? 3000);
const ROOT = path.resolve(import.meta.dirname, '..');
const RATIO_LIMIT = 1.05;
const WARMUP = 10_000;
const RUN = 10_000;
const STREAMS = 64;
const CONNECTIONS = 2000;

type Dialect = 'openai' | 'anthropic';
interface Server {
  name: string;
  dialect: Dialect;
  /** the model names this target takes for the fast and the slow upstream answers */
  models: { fast: string; slow: string };
  /** whether it can stream (Portkey cannot on Node 20) */
  streams: boolean;
  /** headers it needs besides the dialect's */
  headers?: Record<string, string>;
  /** starts it; its URL for the dialect's endpoint, its health URL, and the process whose RSS counts */
  start(): Promise<{ url: string; health: string; proc: ChildProcess }>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;
function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}
const portOf = (child: ChildProcess) => new Promise<number>((r) => child.stdout!.once('data', (d: Buffer) => r(Number(d.toString().trim()))));
const exitOf = (c: ChildProcess) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once('exit', () => r())));

function body(dialect: Dialect, model: string, stream: boolean): string {
  return dialect === 'anthropic'
    ? JSON.stringify({ model, max_tokens: 64, stream, messages: [{ role: 'user', content: 'Say hello.' }] })
    : JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'Say hello.' }] });
}
function headers(dialect: Dialect): Record<string, string> {
  return dialect === 'anthropic' ? { 'content-type': 'application/json', 'x-api-key': 'x', 'anthropic-version': '2023-06-01' } : { 'content-type': 'application/json', authorization: 'Bearer x' };
}

/** two full collections in `proc` (bench/lib/gc-on-message.mjs), then its RSS and the heap it still uses */
async function collected(proc: ChildProcess): Promise<{ rss: number; heap: number }> {
  const heap = await new Promise<number>((resolve, reject) => {
    const onMessage = (m: unknown) => {
      if (typeof m !== 'object' || m === null || !('heapUsed' in m)) return;
      proc.off('message', onMessage);
      resolve((m as { heapUsed: number }).heapUsed);
    };
    proc.on('message', onMessage);
    proc.send('gc', (err) => err && reject(err));
  });
  await sleep(500);
  return { rss: rss(proc.pid!), heap };
}
const collectedRss = async (proc: ChildProcess) => (await collected(proc)).rss;

/** `amount` requests over 16 connections; throws when any failed */
async function load(url: string, h: Record<string, string>, payload: string, amount: number): Promise<void> {
  const r = await autocannon({ url, method: 'POST', headers: h, body: payload, connections: 16, amount });
  if (r.errors || r.non2xx) throw new Error(`${url}: ${r.errors} errors, ${r.non2xx} non-2xx in ${amount} requests`);
}

/** STREAMS slow streams at once; the highest RSS while all are open */
async function streamsAtOnce(s: Server, url: string, h: Record<string, string>, pid: number): Promise<number> {
  let open = 0;
  let done = 0;
  let peak = 0;
  const sampler = setInterval(() => {
    if (open === STREAMS && done === 0) peak = Math.max(peak, rss(pid));
  }, 20);
  try {
    await Promise.all(
      Array.from({ length: STREAMS }, async () => {
        const res = await fetch(url, { method: 'POST', headers: h, body: body(s.dialect, s.models.slow, true) });
        if (res.status !== 200) throw new Error(`${s.name}: a slow stream got HTTP ${res.status}: ${await res.text()}`);
        let first = true;
        for await (const _ of res.body!) {
          if (first) {
            first = false;
            open++;
          }
        }
        done++;
      }),
    );
  } finally {
    clearInterval(sampler);
  }
  if (!peak) throw new Error(`${s.name}: the ${STREAMS} streams were never all open at once`);
  return peak;
}

/** CONNECTIONS keep-alive connections that each had one answer from `healthUrl`; RSS with all open */
async function idleConnections(healthUrl: string, proc: ChildProcess): Promise<number> {
  const u = new URL(healthUrl);
  const sockets: net.Socket[] = [];
  const request = `GET ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: keep-alive\r\n\r\n`;
  const one = () =>
    new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(Number(u.port), u.hostname, () => s.write(request));
      s.once('data', (d) => (d.toString().startsWith('HTTP/1.1 200') ? resolve(s) : reject(new Error(`health: ${d.toString().slice(0, 80)}`))));
      s.once('error', reject);
      sockets.push(s);
    });
  try {
    // in batches, so the listen backlog never overflows
    for (let i = 0; i < CONNECTIONS; i += 100) await Promise.all(Array.from({ length: Math.min(100, CONNECTIONS - i) }, one));
    await sleep(SETTLE_MS);
    const held = await collectedRss(proc);
    const closed = sockets.filter((s) => s.destroyed || s.readableEnded).length;
    if (closed) throw new Error(`${closed} of the idle connections were closed by the server`);
    return held;
  } finally {
    for (const s of sockets) s.destroy();
  }
}

async function main() {
  const home = await mkdtemp(path.join(os.tmpdir(), 'cligate-bench-mem-'));
  const upstream = spawn(process.execPath, [path.join(ROOT, 'bench/lib/fast-upstream.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const running: ChildProcess[] = [upstream];
  try {
    const upBase = `http://127.0.0.1:${await portOf(upstream)}/v1`;
    const node = (args: string[], opts: Parameters<typeof spawn>[2] = {}) => {
      const c = spawn(process.execPath, ['--expose-gc', '--import', path.join(ROOT, 'bench/lib/gc-on-message.mjs'), ...args], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], ...opts });
      c.stdout!.resume();
      c.stderr!.resume();
      running.push(c);
      return c;
    };
    const cligate = (dialect: Dialect): Server => ({
      name: dialect === 'openai' ? 'cligate' : 'cligate-anthropic',
      dialect,
      models: { fast: 'bench-model', slow: 'bench-slow' },
      streams: true,
      async start() {
        const port = await freePort();
        const data = await mkdtemp(path.join(home, 'cligate-'));
        // as `npm start` runs it, defaults kept (usage and history recorded)
        const proc = node([path.join(ROOT, 'scripts/start.js')], {
          cwd: ROOT,
          env: { HOME: data, PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', DATA_DIR: path.join(data, 'data'), LOG_LEVEL: 'warn', RATE_LIMIT_ENABLED: 'false', OPENAI_COMPATIBLE_BASE_URL: upBase, OPENAI_COMPATIBLE_MODELS: 'bench-model,bench-slow' },
        });
        const base = `http://127.0.0.1:${port}`;
        return { url: `${base}${dialect === 'openai' ? '/v1/chat/completions' : '/v1/messages'}`, health: `${base}/health`, proc };
      },
    });
    const servers: Server[] = [
      cligate('openai'),
      cligate('anthropic'),
      {
        name: 'bare relay (floor)',
        dialect: 'openai',
        models: { fast: 'bench-model', slow: 'bench-slow' },
        streams: true,
        async start() {
          const proc = node([path.join(ROOT, 'bench/lib/bare-proxy.mjs'), `${upBase}/chat/completions`]);
          const port = await portOf(proc);
          // it relays every request, a GET too: its "health" is an answer from the upstream
          return { url: `http://127.0.0.1:${port}/`, health: `http://127.0.0.1:${port}/`, proc };
        },
      },
      {
        name: 'portkey',
        dialect: 'openai',
        models: { fast: 'bench-model', slow: 'bench-slow' },
        streams: false,
        headers: { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': upBase },
        async start() {
          const port = await freePort();
          const proc = node([path.join(ROOT, 'node_modules/@portkey-ai/gateway/build/start-server.js'), `--port=${port}`]);
          return { url: `http://127.0.0.1:${port}/v1/chat/completions`, health: `http://127.0.0.1:${port}/`, proc };
        },
      },
      {
        name: 'ccr',
        dialect: 'anthropic',
        // claude-code-router picks provider and model from "provider,model"; a bare name goes to Router.default
        models: { fast: 'bench,bench-model', slow: 'bench,bench-slow' },
        streams: true,
        async start() {
          const port = await freePort();
          const ccrHome = await mkdtemp(path.join(home, 'ccr-'));
          await mkdir(path.join(ccrHome, '.claude-code-router'));
          await mkdir(path.join(ccrHome, 'tmp'));
          const config = {
            LOG: false,
            HOST: '127.0.0.1',
            PORT: port,
            APIKEY: '',
            Providers: [{ name: 'bench', api_base_url: `${upBase}/chat/completions`, api_key: 'x', models: ['bench-model', 'bench-slow'] }],
            Router: { default: 'bench,bench-model' },
          };
          await writeFile(path.join(ccrHome, '.claude-code-router', 'config.json'), JSON.stringify(config, null, 2));
          const proc = node([path.join(ROOT, 'node_modules/@musistudio/claude-code-router/dist/cli.js'), 'start'], { env: { HOME: ccrHome, TMPDIR: path.join(ccrHome, 'tmp'), PATH: process.env.PATH ?? '' } });
          return { url: `http://127.0.0.1:${port}/v1/messages`, health: `http://127.0.0.1:${port}/`, proc };
        },
      },
    ];
    const h = (s: Server) => ({ ...headers(s.dialect), ...s.headers });

    const results: Record<string, Record<string, unknown>> = {};
    const loadAtStart = +os.loadavg()[0]!.toFixed(2);
    for (const s of servers) {
      const { url, health, proc } = await s.start();
      const pid = proc.pid!;
      try {
        await waitUntilUp(health, s.name);
        // every target must answer its dialect before anything is measured
        const probe = await fetch(url, { method: 'POST', headers: h(s), body: body(s.dialect, s.models.fast, false) });
        const text = await probe.text();
        if (probe.status !== 200 || !text.includes('Hello')) throw new Error(`${s.name} cannot serve: HTTP ${probe.status} ${text.slice(0, 200)}`);
        await sleep(SETTLE_MS);
        const idle = await collectedRss(proc);

        const json = body(s.dialect, s.models.fast, false);
        const stream = body(s.dialect, s.models.fast, true);
        // one after the other: 5,000 non-stream, then 5,000 streams (or all non-stream)
        const relay = async (n: number) => {
          for (const [payload, amount] of s.streams ? ([[json, n / 2], [stream, n / 2]] as const) : ([[json, n]] as const)) await load(url, h(s), payload, amount);
        };
        await relay(WARMUP);
        await sleep(SETTLE_MS);
        const { rss: before, heap: heapBefore } = await collected(proc);
        let peak = 0;
        const sampler = setInterval(() => (peak = Math.max(peak, rss(pid))), 50);
        await relay(RUN).finally(() => clearInterval(sampler));
        await sleep(SETTLE_MS);
        const { rss: after, heap: heapAfter } = await collected(proc);
        const ratio = +(after / before).toFixed(3);
        const heapRatio = +(heapAfter / heapBefore).toFixed(3);

        const streams = s.streams ? await streamsAtOnce(s, url, h(s), pid) : undefined;
        await sleep(SETTLE_MS);
        const conns = await idleConnections(health, proc);
        results[s.name] = {
          idleMB: mb(idle),
          relayRun: { requests: RUN, mix: s.streams ? '5,000 non-stream + 5,000 streams' : '10,000 non-stream', beforeMB: mb(before), afterMB: mb(after), ratio, peakMB: mb(peak), heapBeforeMB: mb(heapBefore), heapAfterMB: mb(heapAfter), heapRatio },
          streams64MB: streams === undefined ? null : mb(streams),
          idleConnections2000MB: mb(conns),
        };
        console.log(
          `${s.name.padEnd(18)} idle ${mb(idle)} MB | relay run ${RUN} (${s.streams ? 'half streams' : 'non-stream only'}): before ${mb(before)} MB, after ${mb(after)} MB, ratio ${ratio} (JS heap in use ${mb(heapBefore)} → ${mb(heapAfter)} MB, ${heapRatio}), peak ${mb(peak)} MB | ${STREAMS} streams open ${streams === undefined ? 'n/a (cannot stream)' : `${mb(streams)} MB`} | ${CONNECTIONS} idle connections ${mb(conns)} MB`,
        );
      } finally {
        proc.kill('SIGTERM');
        await exitOf(proc);
      }
    }

    const cg = results.cligate!;
    const run = cg.relayRun as { ratio: number; beforeMB: number; afterMB: number };
    const cgA = results['cligate-anthropic']!.relayRun as { ratio: number };
    console.log('\n== targets (issue 22) ==');
    for (const [name, r] of [['cligate', run], ['cligate-anthropic', cgA]] as const) {
      console.log(`no growth across a ${RUN}-request relay run, ${name}: RSS after/before ${r.ratio} (limit ${RATIO_LIMIT}): ${r.ratio <= RATIO_LIMIT ? 'PASS' : 'FAIL'}`);
    }
    for (const k of ['idleMB', 'streams64MB', 'idleConnections2000MB'] as const) {
      console.log(`${k.padEnd(22)} ${Object.entries(results).map(([n, r]) => `${n} ${r[k] ?? 'n/a'}`).join(' | ')}`);
    }
    const machineLoad = { start: loadAtStart, end: +os.loadavg()[0]!.toFixed(2) };
    console.log(`(load average ${machineLoad.start} at the start, ${machineLoad.end} at the end)`);
    console.log(`\nMEMORY ${JSON.stringify({ node: process.version, settleMs: SETTLE_MS, load: machineLoad, results })}`);
    if (run.ratio > RATIO_LIMIT || cgA.ratio > RATIO_LIMIT) process.exitCode = 1;
  } finally {
    for (const c of running) c.kill('SIGTERM');
    await Promise.all(running.map(exitOf));
    await rm(home, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
