/**
 * bench/cli-overhead: the same prompt through cligate and through the bare
 * `claude -p` command, against the same instant fake upstream, alternating, and
 * prints medians and the ratio (target: cligate / bare <= 1.05). Then warm: a second
 * cligate with WARM_POOL_SIZE=1 answers from pre-started processes; its time to first
 * token is compared with the bare CLI's cold wall time (target <= 0.3).
 *
 *   npm run bench:cli-overhead -- [runs=15] [thinkMs=2000]
 */
import { execa } from 'execa';
import { startFakeAnthropic } from '../tests/fakes/anthropic.js';
import { claudeTestEnv, CLAUDE_BIN } from '../tests/helpers/claude-env.js';
import { spawnServer } from '../tests/helpers/server-process.js';
import { claudeArgs, claudeEnv, claudeInput } from '../src/providers/claude/client.js';
import { createSandbox, DEFAULT_TEMPLATE_DIR } from '../src/runtime/sandbox.js';

const RUNS = Number(process.argv[2] ?? 15);
/** the pause between a client's turns (a coding client runs its tools, the user reads): the warm process boots meanwhile */
const THINK_MS = Number(process.argv[3] ?? 2000);
const PROMPT = 'Reply with the word pong.';
const MODEL = 'claude-sonnet-4-5';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main() {
  const fake = await startFakeAnthropic({ reply: 'pong' });
  const claude = await claudeTestEnv(fake.url);

  const running = await spawnServer({ ...claude.env, CLAUDE_CLI_PATH: CLAUDE_BIN });
  const server = running.child;
  const url = `${running.url}/v1/chat/completions`;

  // the bare CLI gets exactly what cligate gives it: same args, env, sandbox template
  const input = claudeInput(PROMPT, []);
  const args = [...claudeArgs({ model: MODEL, allowedTools: ['WebSearch', 'WebFetch'] }), ...input.args];
  const env = claudeEnv(claude.env);

  const viaCligate = async () => {
    const t0 = performance.now();
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: PROMPT }] }),
    });
    const body = (await res.json()) as { choices?: { message: { content: string } }[] };
    if (body.choices?.[0]?.message.content !== 'pong') throw new Error(`unexpected answer ${JSON.stringify(body)}`);
    return performance.now() - t0;
  };
  const bare = async () => {
    const sandbox = await createSandbox(DEFAULT_TEMPLATE_DIR, 'claude');
    try {
      const t0 = performance.now();
      const r = await execa(CLAUDE_BIN, args, { input: input.stdin, env, extendEnv: false, cwd: sandbox.path });
      const ms = performance.now() - t0;
      if (!r.stdout.includes('"result":"pong"')) throw new Error('bare CLI gave no answer');
      return ms;
    } finally {
      await sandbox.cleanup();
    }
  };

  // warm both paths once (file cache, JIT) before measuring
  await viaCligate();
  await bare();
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    if (i % 2 === 0) {
      a.push(await viaCligate());
      b.push(await bare());
    } else {
      b.push(await bare());
      a.push(await viaCligate());
    }
  }
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));

  // warm: time to the first token, and the whole answer, from a pre-started process
  const warmServer = await spawnServer({ ...claude.env, CLAUDE_CLI_PATH: CLAUDE_BIN, WARM_POOL_SIZE: '1', WARM_POOL_IDLE: '600' });
  const warmReady = async () => {
    for (let i = 0; i < 400; i++) {
      const h = (await (await fetch(`${warmServer.url}/health`)).json()) as { warm: { idle: number } };
      if (h.warm.idle >= 1) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error('no warm process became ready');
  };
  const think = () => new Promise((r) => setTimeout(r, THINK_MS));
  const viaWarm = async (waitWarm = true): Promise<{ ttft: number; wall: number }> => {
    if (waitWarm) {
      await warmReady();
      await think();
    }
    const t0 = performance.now();
    const res = await fetch(`${warmServer.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, stream: true, messages: [{ role: 'user', content: PROMPT }] }),
    });
    let ttft = 0;
    let text = '';
    const decoder = new TextDecoder();
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      text += decoder.decode(chunk, { stream: true });
      if (!ttft && /"content":"[^"]/.test(text)) ttft = performance.now() - t0;
    }
    if (!text.includes('pong')) throw new Error(`unexpected warm answer ${text.slice(0, 200)}`);
    return { ttft, wall: performance.now() - t0 };
  };
  await viaWarm(false); // the first one of the shape starts cold and puts the shape in demand
  const warm: { ttft: number; wall: number }[] = [];
  for (let i = 0; i < RUNS; i++) warm.push(await viaWarm());
  const hits = ((await (await fetch(`${warmServer.url}/health`)).json()) as { warm: { hits: number } }).warm.hits;
  if (hits < RUNS) throw new Error(`only ${hits} of ${RUNS} warm requests found a warm process`);
  warmServer.child.kill('SIGTERM');
  await warmServer.exited;
  await fake.close();
  await claude.cleanup();

  const ma = median(a);
  const mb = median(b);
  const mt = median(warm.map((w) => w.ttft));
  const mw = median(warm.map((w) => w.wall));
  const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(' ');
  console.log(`runs each: ${RUNS} (alternating), prompt "${PROMPT}", instant fake upstream`);
  console.log(`bare claude -p (cold)       median ${mb.toFixed(1)} ms   [${fmt(b)}]`);
  console.log(`through cligate (cold)      median ${ma.toFixed(1)} ms   [${fmt(a)}]`);
  console.log(`ratio cligate/bare          ${(ma / mb).toFixed(3)}   (target <= 1.05)   overhead ${(ma - mb).toFixed(1)} ms`);
  console.log(`warm runs: ${THINK_MS} ms between a client's turns (the warm process boots meanwhile; npm run bench:cli-overhead -- runs thinkMs)`);
  console.log(`cligate warm: first token   median ${mt.toFixed(1)} ms   [${fmt(warm.map((w) => w.ttft))}]`);
  console.log(`cligate warm: whole answer  median ${mw.toFixed(1)} ms`);
  console.log(`ratio warm first token / bare cold wall ${(mt / mb).toFixed(3)}   (target <= 0.3)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
