/**
 * bench/lifecycle: the figures behind issue 19, measured from outside the process.
 *
 * - start-up: bench/startup (spawn to the first 200 from /health: `npm start`, the Docker
 *   image's command, and the start commands before issue 22 for scale);
 * - drain through `npm start`: SIGTERM to npm with nothing running (to npm's exit), and with a
 *   stream open past SHUTDOWN_GRACE (to its terminal error event, and to npm's exit);
 * - a slow model (a token a second) behind the real claude CLI with its default tools: the first
 *   token through cligate vs the bare CLI printing it;
 * - bodies: 408 for a body trickling at 1 KB/s (BODY_TIMEOUT 2000), 413 for a 60 MB
 *   Content-Length with 1 MB sent.
 *
 *   npm run bench:lifecycle -- [runs=5]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startFakeAnthropic, type FakeAnthropic } from '../tests/fakes/anthropic.js';
import { claudeTestEnv, CLAUDE_BIN } from '../tests/helpers/claude-env.js';
import { spawnServer } from '../tests/helpers/server-process.js';
import { runStartupBench } from './startup.js';
import { claudeArgs, claudeEnv, claudeInput } from '../src/providers/claude/client.js';
import { createSandbox, DEFAULT_TEMPLATE_DIR } from '../src/runtime/sandbox.js';

const RUNS = Number(process.argv[2] ?? 5);
const MODEL = 'claude-sonnet-4-5';
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const ms = (x: number) => `${Math.round(x)} ms`;
const exitOf = (c: ChildProcess) => new Promise<void>((r) => (c.exitCode !== null ? r() : c.once('exit', () => r())));

async function drain(fake: FakeAnthropic, env: Record<string, string>) {
  console.log('\ndrain through npm start (SIGTERM to the npm process):');
  {
    const s = await spawnServer({ ...env, CLAUDE_CLI_PATH: CLAUDE_BIN }, { npm: 'start' });
    const t0 = performance.now();
    s.child.kill('SIGTERM');
    await s.exited;
    console.log(`  nothing running: npm exited ${ms(performance.now() - t0)} after the signal`);
  }
  {
    const grace = 2000;
    const s = await spawnServer({ ...env, CLAUDE_CLI_PATH: CLAUDE_BIN, SHUTDOWN_GRACE: String(grace), SSE_KEEPALIVE_INTERVAL: '0.5' }, { npm: 'start' });
    fake.setScript({ reply: Array.from({ length: 100 }, (_, i) => `w${i}`).join(' '), chunks: 100, chunkDelayMs: 200 });
    const res = await fetch(`${s.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, stream: true, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }) });
    const reader = res.body!.getReader();
    await reader.read();
    const t0 = performance.now();
    s.child.kill('SIGTERM');
    let text = '';
    let errorAt = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
      if (!errorAt && text.includes('event: error')) errorAt = performance.now() - t0;
    }
    await s.exited;
    console.log(`  a stream open past SHUTDOWN_GRACE=${grace}: its "event: error" (overloaded_error) ${ms(errorAt)} after the signal, npm exited after ${ms(performance.now() - t0)}`);
  }
}

async function firstToken(fake: FakeAnthropic, env: Record<string, string>, home: string) {
  const runs = Math.min(RUNS, 3);
  const slow = { reply: 'one two three four five six', chunks: 6, chunkDelayMs: 1000 };
  fake.setScript(slow);
  const s = await spawnServer({ ...env, CLAUDE_CLI_PATH: CLAUDE_BIN });
  const viaCligate = async () => {
    const t0 = performance.now();
    const res = await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'count' }] }) });
    let first = 0;
    let text = '';
    for await (const chunk of res.body!) {
      text += new TextDecoder().decode(chunk as Uint8Array);
      if (!first && /"content":"[^"]/.test(text)) first = performance.now() - t0;
    }
    return first;
  };
  // the bare CLI as cligate runs it (same arguments, environment and sandbox template), to its first text delta
  const input = claudeInput('count', []);
  const args = [...claudeArgs({ model: MODEL, allowedTools: ['WebSearch', 'WebFetch'] }), ...input.args];
  const bare = async () => {
    const sandbox = await createSandbox(DEFAULT_TEMPLATE_DIR, 'claude');
    try {
      const t0 = performance.now();
      const child = spawn(CLAUDE_BIN, args, { cwd: sandbox.path, env: claudeEnv({ ...env, HOME: home }), stdio: ['pipe', 'pipe', 'ignore'] });
      child.stdin.end(input.stdin);
      const t = await new Promise<number>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('"text_delta"')) resolve(performance.now() - t0);
        });
        child.on('exit', () => reject(new Error(`no text delta: ${out.slice(0, 200)}`)));
      });
      child.kill('SIGKILL');
      await exitOf(child);
      return t;
    } finally {
      await sandbox.cleanup();
    }
  };
  const through: number[] = [];
  const bareTimes: number[] = [];
  for (let i = 0; i < runs; i++) {
    bareTimes.push(await bare());
    through.push(await viaCligate());
  }
  s.child.kill('SIGTERM');
  await s.exited;
  console.log(`\nslow model (a token a second, 6 tokens), default tools (WebSearch, WebFetch), median of ${runs}:`);
  console.log(`  first token through cligate ${ms(median(through))} [${through.map(Math.round).join(' ')}], bare CLI ${ms(median(bareTimes))} [${bareTimes.map(Math.round).join(' ')}]; difference ${ms(median(through) - median(bareTimes))} (PREAMBLE_HOLD_MS 1000)`);
}

async function bodies(env: Record<string, string>) {
  const s = await spawnServer({ ...env, CLAUDE_CLI_PATH: CLAUDE_BIN, BODY_TIMEOUT: '2000' });
  const { port } = new URL(s.url);
  const raw = (head: string, feed: (sock: net.Socket) => void) =>
    new Promise<{ status: string; after: number }>((resolve) => {
      const sock = net.connect(Number(port), '127.0.0.1');
      const t0 = performance.now();
      let after = 0;
      let out = '';
      sock.on('data', (d: Buffer) => {
        after ||= performance.now() - t0;
        out += d.toString('latin1');
      });
      sock.on('error', () => {});
      sock.on('close', () => resolve({ status: out.slice(9, 12), after }));
      sock.write(head);
      feed(sock);
    });
  const head = (len: number) => `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${len}\r\n\r\n`;
  const slow = await raw(head(100_000), (sock) => {
    const t = setInterval(() => (sock.destroyed ? clearInterval(t) : sock.write(Buffer.alloc(1024, 32))), 1000);
  });
  const big: number[] = [];
  for (let i = 0; i < 20; i++) {
    const r = await raw(head(60 * 1024 * 1024), (sock) => sock.write(Buffer.alloc(1024 * 1024, 32)));
    if (r.status !== '413') throw new Error(`expected 413, got ${r.status}`);
    big.push(r.after);
  }
  s.child.kill('SIGTERM');
  await s.exited;
  console.log('\nbodies:');
  console.log(`  trickling at 1 KB/s, BODY_TIMEOUT=2000: ${slow.status} after ${ms(slow.after)}`);
  console.log(`  Content-Length 60 MB (1 MB sent, then a pause), BODY_LIMIT 10mb: 413 after ${median(big).toFixed(1)} ms (median of 20; max ${Math.max(...big).toFixed(1)} ms)`);
}

async function main() {
  const fake = await startFakeAnthropic({ reply: 'pong' });
  const claude = await claudeTestEnv(fake.url);
  const dataHome = await mkdtemp(path.join(os.tmpdir(), 'cligate-bench-'));
  const env = { ...claude.env, DATA_DIR: path.join(dataHome, 'data') };
  try {
    await runStartupBench(RUNS);
    await drain(fake, env);
    await firstToken(fake, env, claude.home);
    await bodies(env);
  } finally {
    await fake.close();
    await claude.cleanup();
    await rm(dataHome, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
