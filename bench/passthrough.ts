/**
 * bench/passthrough: the HTTP path's cost, side by side in one run, every target in front of
 * the same fast fake OpenAI upstream (bench/lib/fast-upstream.mjs):
 *
 *  OpenAI path (POST /v1/chat/completions in, OpenAI chat out)
 *   - direct: the upstream itself;
 *   - bare: a bare node relay (bench/lib/bare-proxy.mjs), the floor: what one more node hop
 *     costs on this machine;
 *   - cligate: its openai-compatible provider, run as `npm start` runs it (scripts/start.js);
 *   - portkey: @portkey-ai/gateway from npm, the peer on this path;
 *  Anthropic path (POST /v1/messages in, OpenAI chat out: Claude Code in front of another model)
 *   - cligate-anthropic: cligate's Anthropic surface → openai-compatible provider;
 *   - ccr: @musistudio/claude-code-router 2.0.0 (`ccr start`, its config.json under a
 *     temporary HOME naming the same upstream; logging off, its most favourable setting), the
 *     peer Claude Code users pick for this path.
 *
 *  1. added latency: sequential requests (concurrency 1), targets taking turns, timed with
 *     hrtime to the last byte: p50/p99 per target and minus the direct path;
 *  2. throughput: autocannon at concurrency 1/16/64, ROUNDS rounds with the targets taking
 *     turns (the order rotating), the median round per target: requests per second, and the
 *     p50/p99 of that round's response times (each response timed to the microsecond);
 *  3. a coding agent's real request: Claude Code 2.1.197's first request as recorded
 *     (tests/fixtures/clients, ~90 kB: system prompt, tools, a prompt), streamed, one at a time,
 *     the Anthropic targets taking turns with the bare relay and the upstream (sent the same
 *     conversation in OpenAI's shape): time to the first byte and to the last, p50.
 *
 *   npm run bench:passthrough -- [seconds=5] [probes=1500] [rounds=3]
 *
 * Targets (issue 22), printed at the end with their measured values, PASS or FAIL:
 *   - Anthropic path: cligate ≥ 3 × ccr's requests per second at c16 and c64, and a lower p50 at
 *     c1, c16 and c64, non-stream and stream;
 *   - OpenAI path: cligate ≥ 3 × Portkey's requests per second at c16 and c64 (Portkey cannot
 *     stream on Node 20: reported as n/a);
 *   - one request at a time, cligate ≤ 0.1 ms beyond the bare relay, JSON and stream: measured in a
 *     round of their own (1b), the two alone taking turns, which goes first flipping each pair, so
 *     each process has waited the same (one request of the other) when its request comes; the
 *     median of per-pair differences (paired), and beside it the difference of the two p50s. In the
 *     all-targets round (1) a target's figure depends on what ran before it: cligate's Anthropic
 *     path, probed right after its OpenAI path in the same process, was 0.03 ms over the bare relay
 *     when a peer ran between them 0.29 ms.
 * A peer that cannot serve its path at all fails the run (its configuration is wrong).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { freePort, waitUntilUp } from '../tests/helpers/net.js';

const SECONDS = Number(process.argv[2] ?? 5);
const PROBES = Number(process.argv[3] ?? 1500);
const ROUNDS = Number(process.argv[4] ?? 3);
const CONCURRENCY = [1, 16, 64] as const;
const ROOT = path.resolve(import.meta.dirname, '..');
const RPS_FACTOR = 3;
/** what cligate may add to one request beyond the bare relay (ms) */
const FLOOR_MS = 0.1;
/** the levels the requests-per-second targets are set at */
const RPS_LEVELS = ['c16', 'c64'];

type Dialect = 'openai' | 'anthropic';
type Name = 'direct' | 'bare' | 'cligate' | 'portkey' | 'cligate-anthropic' | 'ccr';
interface Target {
  dialect: Dialect;
  url: string;
  headers: Record<string, string>;
}
interface Cell {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

const BODY: Record<Dialect, (stream: boolean) => string> = {
  openai: (stream) => JSON.stringify({ model: 'bench-model', stream, messages: [{ role: 'user', content: 'Say hello.' }] }),
  anthropic: (stream) => JSON.stringify({ model: 'bench-model', max_tokens: 64, stream, messages: [{ role: 'user', content: 'Say hello.' }] }),
};

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
const round3 = (x: number) => +x.toFixed(3);
const portOf = (child: ChildProcess) => new Promise<number>((r) => child.stdout!.once('data', (d: Buffer) => r(Number(d.toString().trim()))));

async function main() {
  const home = await mkdtemp(path.join(os.tmpdir(), 'cligate-bench-'));
  const children: ChildProcess[] = [];
  const start = (args: string[], opts: Parameters<typeof spawn>[2] = {}) => {
    const c = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], ...opts });
    children.push(c);
    return c;
  };
  try {
    const upstream = start([path.join(ROOT, 'bench/lib/fast-upstream.mjs')]);
    const upBase = `http://127.0.0.1:${await portOf(upstream)}/v1`;

    // cligate as `npm start` runs it, defaults kept (usage and history recorded, request log at warn so the terminal stays quiet)
    const cgPort = await freePort();
    start([path.join(ROOT, 'scripts/start.js')], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { HOME: home, PATH: process.env.PATH ?? '', PORT: String(cgPort), HOST: '127.0.0.1', DATA_DIR: path.join(home, 'data'), LOG_LEVEL: 'warn', RATE_LIMIT_ENABLED: 'false', OPENAI_COMPATIBLE_BASE_URL: upBase, OPENAI_COMPATIBLE_MODELS: 'bench-model' },
    });
    const cligate = `http://127.0.0.1:${cgPort}`;

    const bare = start([path.join(ROOT, 'bench/lib/bare-proxy.mjs'), `${upBase}/chat/completions`]);
    const barePort = await portOf(bare);

    const pkPort = await freePort();
    const portkey = start([path.join(ROOT, 'node_modules/@portkey-ai/gateway/build/start-server.js'), `--port=${pkPort}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    portkey.stdout!.resume();
    portkey.stderr!.resume();

    // claude-code-router reads ~/.claude-code-router/config.json (and keeps a pid file there, a count in TMPDIR)
    const ccrHome = path.join(home, 'ccr');
    const ccrPort = await freePort();
    await mkdir(path.join(ccrHome, '.claude-code-router'), { recursive: true });
    await mkdir(path.join(ccrHome, 'tmp'));
    const ccrConfig = {
      LOG: false,
      HOST: '127.0.0.1',
      PORT: ccrPort,
      APIKEY: '',
      API_TIMEOUT_MS: 600000,
      Providers: [{ name: 'bench', api_base_url: `${upBase}/chat/completions`, api_key: 'x', models: ['bench-model'] }],
      Router: { default: 'bench,bench-model' },
    };
    await writeFile(path.join(ccrHome, '.claude-code-router', 'config.json'), JSON.stringify(ccrConfig, null, 2));
    const ccr = start([path.join(ROOT, 'node_modules/@musistudio/claude-code-router/dist/cli.js'), 'start'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { HOME: ccrHome, TMPDIR: path.join(ccrHome, 'tmp'), PATH: process.env.PATH ?? '' },
    });
    ccr.stdout!.resume();
    ccr.stderr!.resume();

    await waitUntilUp(`${cligate}/health`, 'cligate');
    await waitUntilUp(`http://127.0.0.1:${pkPort}/`, 'portkey');
    await waitUntilUp(`http://127.0.0.1:${ccrPort}/`, 'claude-code-router');

    const json = { 'content-type': 'application/json', authorization: 'Bearer x' };
    const targets: Record<Name, Target> = {
      direct: { dialect: 'openai', url: `${upBase}/chat/completions`, headers: json },
      bare: { dialect: 'openai', url: `http://127.0.0.1:${barePort}/`, headers: json },
      cligate: { dialect: 'openai', url: `${cligate}/v1/chat/completions`, headers: json },
      portkey: { dialect: 'openai', url: `http://127.0.0.1:${pkPort}/v1/chat/completions`, headers: { ...json, 'x-portkey-provider': 'openai', 'x-portkey-custom-host': upBase } },
      'cligate-anthropic': { dialect: 'anthropic', url: `${cligate}/v1/messages`, headers: { 'content-type': 'application/json', 'x-api-key': 'x', 'anthropic-version': '2023-06-01' } },
      ccr: { dialect: 'anthropic', url: `http://127.0.0.1:${ccrPort}/v1/messages`, headers: { 'content-type': 'application/json', 'x-api-key': 'x', 'anthropic-version': '2023-06-01' } },
    };
    await measure(targets);
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
    await rm(home, { recursive: true, force: true });
  }
}

async function measure(targets: Record<Name, Target>) {
  const names = Object.keys(targets) as Name[];
  // the machine's load as the run began (other work on a shared machine slows every target alike, not the ratios)
  const report: Record<string, unknown> = { seconds: SECONDS, probes: PROBES, rounds: ROUNDS, node: process.version, cores: os.availableParallelism(), loadAtStart: +os.loadavg()[0]!.toFixed(2) };
  const verdicts: string[] = [];
  let peerBroken = false;

  for (const stream of [false, true]) {
    const mode = stream ? 'stream' : 'json';
    const payload = (n: Name) => BODY[targets[n].dialect](stream);
    // a target that cannot serve this mode is reported, and left out of it
    const working: Name[] = [];
    for (const name of names) {
      const t = targets[name];
      const r = await fetch(t.url, { method: 'POST', headers: t.headers, body: payload(name) });
      const text = await r.text();
      const shaped = t.dialect === 'anthropic' ? text.includes(stream ? 'event: message_stop' : '"type":"message"') : text.includes(stream ? 'data: [DONE]' : '"chat.completion"');
      if (r.status === 200 && text.includes('Hello') && shaped) working.push(name);
      else {
        report[`${name}-${mode}-failure`] = `HTTP ${r.status} ${text.slice(0, 200)}`;
        console.log(`${name} cannot serve ${mode}: HTTP ${r.status} ${text.slice(0, 200)}`);
        // Portkey's streams fail on Node 20 (known); cligate or ccr failing means a broken set-up
        if (name !== 'portkey') peerBroken = true;
      }
    }

    /** one request, timed with hrtime to its last byte (ms) */
    const timeOne = async (name: Name): Promise<number> => {
      const t = targets[name];
      const t0 = process.hrtime.bigint();
      const r = await fetch(t.url, { method: 'POST', headers: t.headers, body: payload(name) });
      await r.arrayBuffer();
      return Number(process.hrtime.bigint() - t0) / 1e6;
    };

    // 1. added latency, one request at a time, targets taking turns
    const times = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<Name, number[]>;
    for (let i = 0; i < PROBES + 200; i++) {
      for (const name of working) {
        const ms = await timeOne(name);
        if (i >= 200) times[name].push(ms); // the first 200 warm up
      }
    }
    const latency = Object.fromEntries(working.map((n) => [n, { p50: round3(pct(times[n], 50)), p99: round3(pct(times[n], 99)) }])) as Partial<Record<Name, { p50: number; p99: number }>>;

    // 1b. the floor: the bare relay and cligate alone, in pairs, which goes first flipping each pair
    const floorTimes = { bare: [] as number[], cligate: [] as number[] };
    if (working.includes('bare') && working.includes('cligate')) {
      for (let i = 0; i < PROBES + 200; i++) {
        for (const name of i % 2 ? (['cligate', 'bare'] as const) : (['bare', 'cligate'] as const)) {
          const ms = await timeOne(name);
          if (i >= 200) floorTimes[name].push(ms);
        }
      }
    }
    const added = Object.fromEntries(
      working.filter((n) => n !== 'direct').map((n) => [n, { p50: round3(latency[n]!.p50 - latency.direct!.p50), p99: round3(latency[n]!.p99 - latency.direct!.p99) }]),
    ) as Partial<Record<Name, { p50: number; p99: number }>>;

    // 2. throughput at fixed concurrency: ROUNDS rounds, targets taking turns (the order
    // rotating), the median round per target: a slow spell of this shared machine then falls
    // on every target alike rather than on whichever cell it happened to hit
    const throughput: Record<string, Partial<Record<Name, Cell>>> = {};
    for (const c of CONCURRENCY) {
      const rounds = Object.fromEntries(names.map((n) => [n, [] as Cell[]])) as Record<Name, Cell[]>;
      for (let round = 0; round < ROUNDS; round++) {
        const order = working.map((_, i) => working[(i + round) % working.length]!);
        for (const name of order) {
          const t = targets[name];
          const responseMs: number[] = [];
          const r = await new Promise<autocannon.Result>((resolve, reject) => {
            const run = autocannon({ url: t.url, method: 'POST', headers: t.headers, body: payload(name), connections: c, duration: SECONDS }, (err, result) => (err ? reject(err) : resolve(result)));
            // each 2xx response's time, to the microsecond (autocannon's own percentiles are whole milliseconds)
            run.on('response', (_client, status, _bytes, ms) => {
              if (status >= 200 && status < 300) responseMs.push(ms);
            });
          });
          rounds[name].push({ rps: Math.round(r.requests.average), p50: round3(pct(responseMs, 50)), p99: round3(pct(responseMs, 99)), errors: r.errors + r.non2xx });
        }
      }
      throughput[`c${c}`] = Object.fromEntries(working.map((n) => [n, [...rounds[n]].sort((a, b) => a.rps - b.rps)[Math.floor(ROUNDS / 2)]!]));
    }

    const ratio = (a: Name, b: Name) => Object.fromEntries(Object.entries(throughput).map(([c, v]) => [c, v[a] && v[b] ? +(v[a]!.rps / v[b]!.rps).toFixed(2) : null]));
    const cligateOverPortkey = ratio('cligate', 'portkey');
    const cligateOverCcr = ratio('cligate-anthropic', 'ccr');
    const cligateOverBare = ratio('cligate', 'bare');
    // what cligate costs beyond the unavoidable hop (the bare relay), from the floor round (1b)
    const floorP50 = { bare: round3(pct(floorTimes.bare, 50) ?? NaN), cligate: round3(pct(floorTimes.cligate, 50) ?? NaN) };
    const beyondBare = floorTimes.cligate.length ? { p50: round3(floorP50.cligate - floorP50.bare), p99: round3(pct(floorTimes.cligate, 99) - pct(floorTimes.bare, 99)) } : null;
    // paired: each pair's cligate time minus the bare relay's, the median of those differences; a
    // slow spell of the machine then falls on both halves of a pair, where the difference of two
    // p50s moved 0.03-0.28 ms between runs of the same code
    const pairedOf = (a: number[], b: number[]) => (a.length && a.length === b.length ? round3(pct(a.map((t, i) => t - b[i]!), 50)) : null);
    // and in the all-targets round, for scale (its turn order favours the path probed second in a process)
    const pairedBeyondBare = { cligate: pairedOf(floorTimes.cligate, floorTimes.bare), allTargetsRound: { cligate: pairedOf(times.cligate, times.bare), 'cligate-anthropic': pairedOf(times['cligate-anthropic'], times.bare) } };
    report[mode] = { latencyMs: latency, addedMs: added, cligateBeyondBareMs: beyondBare, pairedBeyondBareMs: pairedBeyondBare, throughput, cligateOverPortkey, cligateAnthropicOverCcr: cligateOverCcr, cligateOverBare };

    console.log(`\n== ${mode} ==`);
    console.log(`latency ms (c=1, ${PROBES} each): ${working.map((n) => `${n} p50 ${latency[n]!.p50} p99 ${latency[n]!.p99}`).join(' | ')}`);
    console.log(`added ms over direct: ${Object.entries(added).map(([n, a]) => `${n} p50 ${a!.p50} p99 ${a!.p99}`).join(' | ')}`);
    if (beyondBare) {
      console.log(`floor round (bare relay and cligate alone, ${PROBES} pairs): bare p50 ${floorP50.bare} ms, cligate p50 ${floorP50.cligate} ms`);
      console.log(`cligate beyond the bare relay: p50 ${beyondBare.p50} ms, p99 ${beyondBare.p99} ms; paired (median of per-pair differences) ${pairedBeyondBare.cligate} ms; in the all-targets round: cligate ${pairedBeyondBare.allTargetsRound.cligate} ms, cligate-anthropic ${pairedBeyondBare.allTargetsRound['cligate-anthropic']} ms`);
    }
    for (const [c, v] of Object.entries(throughput)) {
      console.log(`${c.padEnd(4)} ${working.map((n) => `${n} ${v[n]!.rps} rps (p50 ${v[n]!.p50} ms, errors ${v[n]!.errors})`).join('  ')}`);
    }

    // the targets, each with its measured value beside its peer's
    const line = (s: string) => verdicts.push(`${mode.padEnd(6)} ${s}`);
    for (const c of Object.keys(throughput)) {
      const cg = throughput[c]!['cligate-anthropic'];
      const peer = throughput[c]!.ccr;
      if (!cg || !peer) {
        line(`${c.padEnd(3)} anthropic path: cligate ${cg ? `${cg.rps} rps` : 'cannot serve'} vs ccr ${peer ? `${peer.rps} rps` : 'cannot serve'}: FAIL`);
        continue;
      }
      const r = cligateOverCcr[c]!;
      const rpsVerdict = RPS_LEVELS.includes(c) ? ` (target ≥ ${RPS_FACTOR}×: ${r >= RPS_FACTOR ? 'PASS' : 'FAIL'})` : '';
      line(
        `${c.padEnd(3)} anthropic path: cligate ${cg.rps} rps vs ccr ${peer.rps} rps = ${r}×${rpsVerdict}; p50 cligate ${cg.p50} ms vs ccr ${peer.p50} ms (target lower: ${cg.p50 < peer.p50 ? 'PASS' : 'FAIL'})`,
      );
    }
    for (const c of RPS_LEVELS) {
      const cg = throughput[c]!.cligate;
      const peer = throughput[c]!.portkey;
      if (!peer) line(`${c.padEnd(3)} openai path: cligate ${cg?.rps ?? '-'} rps vs portkey cannot serve ${mode} (${report[`portkey-${mode}-failure`] ? String(report[`portkey-${mode}-failure`]).slice(0, 40) : ''}): n/a`);
      else line(`${c.padEnd(3)} openai path: cligate ${cg!.rps} rps vs portkey ${peer.rps} rps = ${cligateOverPortkey[c]}× (target ≥ ${RPS_FACTOR}×: ${cligateOverPortkey[c]! >= RPS_FACTOR ? 'PASS' : 'FAIL'})`);
    }
    if (beyondBare && pairedBeyondBare.cligate !== null) {
      const verdict = (x: number) => (x <= FLOOR_MS ? 'PASS' : 'FAIL');
      line(
        `c1  openai path, one request at a time: cligate beyond the bare relay ${pairedBeyondBare.cligate} ms paired (target ≤ ${FLOOR_MS} ms: ${verdict(pairedBeyondBare.cligate)}); p50 − p50 ${beyondBare.p50} ms (${verdict(beyondBare.p50)}); in the all-targets round: ${pairedBeyondBare.allTargetsRound.cligate} ms, Anthropic path ${pairedBeyondBare.allTargetsRound['cligate-anthropic']} ms`,
      );
    }
    for (const c of Object.keys(throughput)) {
      const cg = throughput[c]!.cligate;
      const floor = throughput[c]!.bare;
      if (cg && floor) line(`${c.padEnd(3)} openai path, floor: cligate ${cg.rps} rps vs bare relay ${floor.rps} rps = ${cligateOverBare[c]}×; p50 ${cg.p50} vs ${floor.p50} ms`);
    }
  }
  report.recorded = await recordedRequest(targets);
  report.loadAtEnd = +os.loadavg()[0]!.toFixed(2);
  console.log(`\n== targets (issue 22) == (load average ${report.loadAtStart} at the start, ${report.loadAtEnd} at the end, ${report.cores} cores)\n${verdicts.join('\n')}`);
  console.log(`\nPASSTHROUGH ${JSON.stringify({ ...report, verdicts })}`);
  if (peerBroken) {
    console.error('a target that must serve both modes could not (see above): the run is not a valid comparison');
    process.exitCode = 1;
  }
}

/** Claude Code's first request as recorded, for the Anthropic targets; the same conversation in OpenAI's shape for the others */
async function recordedBodies(): Promise<Record<Dialect, string>> {
  const fixture = JSON.parse(await readFile(path.join(ROOT, 'tests/fixtures/clients/claude-code@2.1.197/first-prompt.2.json'), 'utf8'));
  const body = fixture.request.body as { system: { text: string }[]; messages: { role: string; content: string | { text?: string }[] }[]; tools: { name: string; description: string; input_schema: unknown }[] };
  const text = (c: string | { text?: string }[]) => (typeof c === 'string' ? c : c.map((b) => b.text ?? '').join(''));
  return {
    anthropic: JSON.stringify({ ...body, model: 'bench-model', stream: true }),
    openai: JSON.stringify({
      model: 'bench-model',
      stream: true,
      messages: [{ role: 'system', content: body.system.map((s) => s.text).join('\n') }, ...body.messages.map((m) => ({ role: m.role, content: text(m.content) }))],
      tools: body.tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.input_schema } })),
    }),
  };
}

/** 3. time to the first byte and to the last of a coding agent's real request, one at a time, targets taking turns */
async function recordedRequest(targets: Record<Name, Target>) {
  const bodies = await recordedBodies();
  const names: Name[] = ['direct', 'bare', 'cligate-anthropic', 'ccr'];
  const probes = Math.max(50, Math.round(PROBES / 5));
  const first = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<Name, number[]>;
  const last = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<Name, number[]>;
  for (let i = 0; i < probes + 20; i++) {
    for (const name of names) {
      const t = targets[name];
      const t0 = process.hrtime.bigint();
      const r = await fetch(t.url, { method: 'POST', headers: t.headers, body: bodies[t.dialect] });
      let firstMs: number | undefined;
      for await (const _ of r.body!) firstMs ??= Number(process.hrtime.bigint() - t0) / 1e6;
      const lastMs = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.status !== 200) throw new Error(`${name}: HTTP ${r.status} to Claude Code's recorded request`);
      if (i >= 20) {
        first[name].push(firstMs ?? lastMs);
        last[name].push(lastMs);
      }
    }
  }
  const result = Object.fromEntries(names.map((n) => [n, { firstByteP50: round3(pct(first[n], 50)), lastByteP50: round3(pct(last[n], 50)) }]));
  console.log(`\n== Claude Code 2.1.197's first request as recorded (${bodies.anthropic.length} bytes, streamed, ${probes} each, p50 ms) ==`);
  for (const n of names) console.log(`${n.padEnd(18)} first byte ${result[n]!.firstByteP50}  last byte ${result[n]!.lastByteP50}`);
  return result;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
