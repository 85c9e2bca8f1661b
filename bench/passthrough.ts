/**
 * bench/passthrough: the HTTP path's cost. A fast fake OpenAI upstream is measured
 * directly, through cligate's openai-compatible provider, through a peer gateway from
 * npm (@portkey-ai/gateway, pointed at the same upstream), and through a bare node relay
 * (bench/lib/bare-proxy.mjs: the floor, what one more node hop costs on this machine),
 * side by side in one run:
 *
 *  1. added latency: sequential requests (concurrency 1) taking turns between the three,
 *     timed with hrtime to the last byte: p50/p99 per target and minus the direct path;
 *  2. throughput: autocannon at fixed concurrency levels, requests per second and
 *     latency percentiles, non-stream and stream.
 *
 *   npm run bench:passthrough -- [seconds=5] [probes=1500] [rounds=3]
 * Targets: added p50 <= 0.5 ms; cligate throughput >= 2x the peer's. The bare relay's own
 * added latency shows how much of any hop is this machine's (process wake-ups on a VM).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { freePort, waitUntilUp } from '../tests/helpers/net.js';

const SECONDS = Number(process.argv[2] ?? 5);
const PROBES = Number(process.argv[3] ?? 1500);
const ROUNDS = Number(process.argv[4] ?? 3);
const CONCURRENCY = [1, 16, 64];
const ROOT = path.resolve(import.meta.dirname, '..');

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function main() {
  const upstream = spawn(process.execPath, [path.join(ROOT, 'bench/lib/fast-upstream.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const upPort = await new Promise<number>((r) => upstream.stdout!.once('data', (d: Buffer) => r(Number(d.toString().trim()))));
  const upBase = `http://127.0.0.1:${upPort}/v1`;

  const home = await mkdtemp(path.join(os.tmpdir(), 'cligate-bench-'));
  const cgPort = await freePort();
  // as `npm start` runs it, defaults kept (usage and history recorded, request log at warn so the terminal stays quiet)
  const cligateProc = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main.ts')], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { HOME: home, PATH: process.env.PATH ?? '', PORT: String(cgPort), HOST: '127.0.0.1', DATA_DIR: path.join(home, 'data'), LOG_LEVEL: 'warn', RATE_LIMIT_ENABLED: 'false', OPENAI_COMPATIBLE_BASE_URL: upBase, OPENAI_COMPATIBLE_MODELS: 'bench-model' },
  });
  const cligate = { url: `http://127.0.0.1:${cgPort}` };
  await waitUntilUp(`${cligate.url}/health`, 'cligate');

  const bare = spawn(process.execPath, [path.join(ROOT, 'bench/lib/bare-proxy.mjs'), `${upBase}/chat/completions`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const barePort = await new Promise<number>((r) => bare.stdout!.once('data', (d: Buffer) => r(Number(d.toString().trim()))));

  const pkPort = await freePort();
  const portkey = spawn(process.execPath, [path.join(ROOT, 'node_modules/@portkey-ai/gateway/build/start-server.js'), `--port=${pkPort}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  portkey.stdout!.resume();
  portkey.stderr!.resume();
  await waitUntilUp(`http://127.0.0.1:${pkPort}/`, 'portkey');

  try {
    await measure();
  } finally {
    portkey.kill('SIGTERM');
    bare.kill('SIGTERM');
    upstream.kill('SIGTERM');
    cligateProc.kill('SIGTERM');
    await new Promise((r) => cligateProc.once('exit', r));
    await rm(home, { recursive: true, force: true });
  }

  async function measure() {
    const targets = {
      direct: { url: `${upBase}/chat/completions`, headers: { 'content-type': 'application/json', authorization: 'Bearer x' } },
      cligate: { url: `${cligate.url}/v1/chat/completions`, headers: { 'content-type': 'application/json', authorization: 'Bearer x' } },
      portkey: { url: `http://127.0.0.1:${pkPort}/v1/chat/completions`, headers: { 'content-type': 'application/json', authorization: 'Bearer x', 'x-portkey-provider': 'openai', 'x-portkey-custom-host': upBase } },
      bare: { url: `http://127.0.0.1:${barePort}/`, headers: { 'content-type': 'application/json', authorization: 'Bearer x' } },
    } as const;
    type Target = keyof typeof targets;
    const body = (stream: boolean) => JSON.stringify({ model: 'bench-model', stream, messages: [{ role: 'user', content: 'Say hello.' }] });

    const report: Record<string, unknown> = { seconds: SECONDS, probes: PROBES, rounds: ROUNDS, node: process.version };
    for (const stream of [false, true]) {
      const mode = stream ? 'stream' : 'json';
      const payload = body(stream);
      // a target that cannot serve this mode is reported, and left out of it
      const working: Target[] = [];
      for (const name of Object.keys(targets) as Target[]) {
        const r = await fetch(targets[name].url, { method: 'POST', headers: targets[name].headers, body: payload });
        const text = await r.text();
        if (r.status === 200 && text.includes('Hello')) working.push(name);
        else {
          report[`${name}-${mode}-failure`] = `HTTP ${r.status} ${text.slice(0, 200)}`;
          console.log(`${name} cannot serve ${mode}: HTTP ${r.status} ${text.slice(0, 200)}`);
        }
      }
      // 1. added latency, one request at a time, targets taking turns
      const times: Record<Target, number[]> = { direct: [], cligate: [], portkey: [], bare: [] };
      for (let i = 0; i < PROBES + 200; i++) {
        for (const name of working) {
          const t = targets[name];
          const t0 = process.hrtime.bigint();
          const r = await fetch(t.url, { method: 'POST', headers: t.headers, body: payload });
          await r.arrayBuffer();
          const ms = Number(process.hrtime.bigint() - t0) / 1e6;
          if (i >= 200) times[name].push(ms); // the first 200 warm up
        }
      }
      const latency = Object.fromEntries(working.map((n) => [n, { p50: +pct(times[n], 50).toFixed(3), p99: +pct(times[n], 99).toFixed(3) }])) as Partial<Record<Target, { p50: number; p99: number }>>;
      const added = Object.fromEntries(
        working.filter((n) => n !== 'direct').map((n) => [n, { p50: +(latency[n]!.p50 - latency.direct!.p50).toFixed(3), p99: +(latency[n]!.p99 - latency.direct!.p99).toFixed(3) }]),
      ) as Partial<Record<Target, { p50: number; p99: number }>>;

      // 2. throughput at fixed concurrency: ROUNDS rounds, targets taking turns (the order
      // rotating), the median round per target: a slow spell of this shared machine then
      // falls on every target alike rather than on whichever cell it happened to hit
      const throughput: Record<string, Record<Target, { rps: number; p50: number; p99: number; errors: number }>> = {};
      for (const c of CONCURRENCY) {
        const rounds: Record<Target, { rps: number; p50: number; p99: number; errors: number }[]> = { direct: [], cligate: [], portkey: [], bare: [] };
        for (let round = 0; round < ROUNDS; round++) {
          const order = working.map((_, i) => working[(i + round) % working.length]!);
          for (const name of order) {
            const t = targets[name];
            const r = await autocannon({ url: t.url, method: 'POST', headers: t.headers, body: payload, connections: c, duration: SECONDS });
            rounds[name].push({ rps: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx });
          }
        }
        throughput[`c${c}`] = Object.fromEntries(working.map((n) => [n, [...rounds[n]].sort((a, b) => a.rps - b.rps)[Math.floor(ROUNDS / 2)]!])) as Record<Target, { rps: number; p50: number; p99: number; errors: number }>;
      }
      const ratios = Object.fromEntries(Object.entries(throughput).map(([c, v]) => [c, v.portkey ? +(v.cligate.rps / v.portkey.rps).toFixed(2) : null]));
      // what cligate costs beyond the unavoidable hop (the bare relay)
      const beyondBare = latency.bare && latency.cligate ? { p50: +(latency.cligate.p50 - latency.bare.p50).toFixed(3), p99: +(latency.cligate.p99 - latency.bare.p99).toFixed(3) } : null;
      report[mode] = { latencyMs: latency, addedMs: added, cligateBeyondBareMs: beyondBare, throughput, cligateOverPortkey: ratios };
      console.log(`\n== ${mode} ==`);
      console.log(`latency ms (c=1, ${PROBES} each): ${working.map((n) => `${n} p50 ${latency[n]!.p50} p99 ${latency[n]!.p99}`).join(' | ')}`);
      console.log(`added ms: ${Object.entries(added).map(([n, a]) => `${n} p50 ${a!.p50} p99 ${a!.p99}`).join(' | ')}`);
      if (beyondBare) console.log(`cligate beyond the bare relay: p50 ${beyondBare.p50} ms, p99 ${beyondBare.p99} ms`);
      for (const [c, v] of Object.entries(throughput)) {
        console.log(`${c.padEnd(4)} rps  ${working.map((n) => `${n} ${v[n].rps} (p50 ${v[n].p50} ms, errors ${v[n].errors})`).join('  ')}  cligate/portkey ${ratios[c] ?? 'n/a'}`);
      }
    }
    console.log(`\nPASSTHROUGH ${JSON.stringify(report)}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
