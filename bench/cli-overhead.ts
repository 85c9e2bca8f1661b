/**
 * bench/cli-overhead: the same prompt through cligate and through the bare
 * `claude -p` command, against the same instant fake upstream, alternating, and
 * prints medians and the ratio (target: cligate / bare <= 1.05).
 *
 *   npm run bench:cli-overhead -- [runs=15]
 */
import { execa } from 'execa';
import { startFakeAnthropic } from '../tests/fakes/anthropic.js';
import { claudeTestEnv, CLAUDE_BIN } from '../tests/helpers/claude-env.js';
import { spawnServer } from '../tests/helpers/server-process.js';
import { claudeArgs, claudeEnv } from '../src/providers/claude/client.js';
import { createSandbox, DEFAULT_TEMPLATE_DIR } from '../src/runtime/sandbox.js';

const RUNS = Number(process.argv[2] ?? 15);
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
  const args = claudeArgs({ model: MODEL, allowedTools: ['WebSearch', 'WebFetch'] });
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
      const r = await execa(CLAUDE_BIN, args, { input: PROMPT, env, extendEnv: false, cwd: sandbox.path });
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
  await fake.close();
  await claude.cleanup();

  const ma = median(a);
  const mb = median(b);
  const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(' ');
  console.log(`runs each: ${RUNS} (alternating), prompt "${PROMPT}", instant fake upstream`);
  console.log(`bare claude -p     median ${mb.toFixed(1)} ms   [${fmt(b)}]`);
  console.log(`through cligate    median ${ma.toFixed(1)} ms   [${fmt(a)}]`);
  console.log(`ratio cligate/bare ${(ma / mb).toFixed(3)}   (target <= 1.05)   overhead ${(ma - mb).toFixed(1)} ms`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
