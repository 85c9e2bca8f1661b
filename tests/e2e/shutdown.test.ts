/**
 * SIGTERM drains the real server process: it stops accepting, lets running
 * requests finish within SHUTDOWN_GRACE, then ends every open answer in its dialect,
 * kills what is left and removes every sandbox. Signalled straight (as tini does in the
 * image), through `npm start` (as process managers do), and to the whole process group
 * (Ctrl-C in a terminal).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { readlinkSync, existsSync } from 'node:fs';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { claudeTestEnv, CLAUDE_BIN } from '../helpers/claude-env.js';
import { processTree, isAlive, waitFor } from '../helpers/server.js';
import { spawnServer } from '../helpers/server-process.js';
import { checkResponse, requestFor, type Dialect } from '../helpers/dialects.js';

let fake: FakeAnthropic | undefined;
let server: ChildProcess | undefined;
let cleanupHome: (() => Promise<void>) | undefined;

let serverPid: number | undefined;

afterEach(async () => {
  // through npm the server (and node --watch) run in npm's own process group: all of it goes
  if (server?.spawnargs[0] === 'npm') {
    try {
      process.kill(-server.pid!, 'SIGKILL');
    } catch {
      // the group is gone already
    }
  }
  if (server?.exitCode === null) server.kill('SIGKILL');
  if (serverPid && isAlive(serverPid)) process.kill(serverPid, 'SIGKILL');
  serverPid = undefined;
  await fake?.close();
  await cleanupHome?.();
});

async function startServerProcess(extra: Record<string, string>, opts: { npm?: 'start' | 'dev' } = {}) {
  fake = await startFakeAnthropic();
  const claude = await claudeTestEnv(fake.url);
  cleanupHome = claude.cleanup;
  const running = await spawnServer({ ...claude.env, CLAUDE_CLI_PATH: CLAUDE_BIN, ...extra }, opts);
  server = running.child;
  serverPid = running.serverPid;
  return running;
}

/** a request whose answer is read as it comes: `first` resolves at its first bytes (or its end), `done` with all of it */
function open(url: string, dialect: Dialect, stream: boolean) {
  const { path, body } = requestFor(dialect, 'claude-sonnet-4-5', 'hi', stream);
  let firstBytes!: () => void;
  const first = new Promise<void>((r) => (firstBytes = r));
  const done = (async () => {
    const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    let text = '';
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body!) {
        text += decoder.decode(chunk as Uint8Array, { stream: true });
        firstBytes();
      }
    } catch (err) {
      text += `\n[connection failed: ${(err as Error).message}]`;
    }
    firstBytes();
    return { dialect, stream, status: res.status, contentType: res.headers.get('content-type') ?? '', text };
  })();
  return { first, done };
}

/** the data of an SSE body's events, with their names */
function sse(text: string): { event?: string; data: string }[] {
  return text
    .split('\n\n')
    .map((block) => ({ event: /^event: (.*)$/m.exec(block)?.[1], data: block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n') }))
    .filter((e) => e.data);
}

const count = (text: string, what: string) => text.split(what).length - 1;

const chat = (url: string) =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'claude-sonnet-4-5', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  });

/** the claude processes under the server, and the sandbox each runs in */
async function cliTree(serverPid: number) {
  const pids = (await processTree(serverPid)).filter((p) => p !== serverPid);
  const cwds = pids
    .map((p) => {
      try {
        return readlinkSync(`/proc/${p}/cwd`);
      } catch {
        return '';
      }
    })
    .filter((c) => c.includes('cligate-'));
  return { pids, sandboxes: [...new Set(cwds)] };
}

/** waits until the server runs a CLI in a sandbox (with `reached`, one that has called the fake upstream): that tree */
async function runningCli(serverPid: number, reached: boolean, timeoutMs: number) {
  let tree = { pids: [] as number[], sandboxes: [] as string[] };
  await waitFor(async () => {
    tree = await cliTree(serverPid);
    return tree.sandboxes.length > 0 && (!reached || fake!.requests.length > 0);
  }, timeoutMs);
  return tree;
}

describe('SIGTERM', () => {
  it('lets a running stream finish, refuses new work, exits 0 and leaves nothing', async () => {
    const { url, child, exited } = await startServerProcess({ SHUTDOWN_GRACE: '20000' });
    const reply = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
    fake!.setScript({ reply, chunks: 30, chunkDelayMs: 100 });
    const response = chat(url);
    const tree = await runningCli(child.pid!, false, 5000);
    expect(tree.sandboxes.length).toBe(1);

    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    const refused = await chat(url).then(
      (r) => r.status,
      () => 'connection refused',
    );
    expect([503, 'connection refused']).toContain(refused);

    const res = await response;
    expect(res.status).toBe(200);
    const text = await res.text();
    const content = text
      .split('\n')
      .filter((l) => l.startsWith('data: {'))
      .map((l) => (JSON.parse(l.slice(6)) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? '')
      .join('');
    expect(content).toBe(reply);
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(await exited).toBe(0);
    expect(tree.pids.every((p) => !isAlive(p))).toBe(true);
    expect(tree.sandboxes.every((s) => !existsSync(s))).toBe(true);
  });

  it('after the grace period kills the CLI tree and removes its sandbox', async () => {
    const { url, child, exited } = await startServerProcess({ SHUTDOWN_GRACE: '500' });
    fake!.setScript({ hang: true });
    const pending = chat(url).then((r) => r.text()).catch(() => '');
    const tree = await runningCli(child.pid!, true, 10000);
    expect(tree.pids.length).toBeGreaterThan(0);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await pending;
    expect(await waitFor(() => tree.pids.every((p) => !isAlive(p)), 1500)).toBe(true);
    expect(tree.sandboxes.every((s) => !existsSync(s))).toBe(true);
  });
});

describe('npm start', () => {
  it('SIGTERM to the npm process drains the server once: the open stream ends in its dialect, both exit within the grace, nothing is left', async () => {
    const grace = 3000;
    const { url, child, serverPid: pid, exited, output } = await startServerProcess({ SHUTDOWN_GRACE: String(grace), SSE_KEEPALIVE_INTERVAL: '0.5' }, { npm: 'start' });
    expect(pid).not.toBe(child.pid); // npm runs the server as a child of its own
    // longer than the grace: still streaming when it ends
    fake!.setScript({ reply: Array.from({ length: 100 }, (_, i) => `w${i}`).join(' '), chunks: 100, chunkDelayMs: 200 });
    const answer = open(url, 'openai', true);
    await answer.first;
    const tree = await runningCli(pid, false, 10000);
    expect(tree.sandboxes.length).toBe(1);

    const t0 = performance.now();
    child.kill('SIGTERM'); // npm, not the server
    await new Promise((r) => setTimeout(r, 200));
    const refused = await fetch(`${url}/health`).then((r) => r.status, () => 'connection refused');
    expect([503, 'connection refused']).toContain(refused);

    const r = await answer.done;
    const ended = performance.now() - t0;
    expect(r.status).toBe(200);
    expect(checkResponse('openai', true, r.status, r.contentType, r.text)).toBeUndefined();
    const events = sse(r.text);
    expect(events.at(-1)!.data).toBe('[DONE]');
    expect(JSON.parse(events.at(-2)!.data)).toMatchObject({ error: { type: 'service_unavailable', code: 'shutting_down' } });
    expect(await exited).toBe(0);
    const exitedAfter = performance.now() - t0;
    console.log(`SIGTERM to npm: stream ended ${Math.round(ended)} ms after the signal (SHUTDOWN_GRACE ${grace}), npm exited after ${Math.round(exitedAfter)} ms`);
    expect(ended).toBeGreaterThanOrEqual(grace * 0.9); // the grace was given
    expect(exitedAfter).toBeLessThan(grace + 20_000); // generous: a shared machine
    expect(await waitFor(() => !isAlive(pid), 3000)).toBe(true);
    expect(count(output(), 'shutting down: draining')).toBe(1);
    expect(output()).not.toMatch(/exiting now/);
    expect(await waitFor(() => tree.pids.every((p) => !isAlive(p)), 3000)).toBe(true);
    expect(tree.sandboxes.every((s) => !existsSync(s))).toBe(true);
  });

  it('SIGINT to the whole process group (Ctrl-C) is one drain, not an emergency exit: the running stream finishes', async () => {
    const { url, child, serverPid: pid, exited, output } = await startServerProcess({ SHUTDOWN_GRACE: '20000', LOG_LEVEL: 'debug' }, { npm: 'start' });
    const reply = Array.from({ length: 15 }, (_, i) => `word${i}`).join(' ');
    fake!.setScript({ reply, chunks: 15, chunkDelayMs: 300 });
    const answer = open(url, 'anthropic', true);
    const tree = await runningCli(pid, true, 10000);
    expect(tree.sandboxes.length).toBe(1);

    process.kill(-child.pid!, 'SIGINT'); // the group: npm and the server, as a terminal's Ctrl-C
    const r = await answer.done;
    expect(checkResponse('anthropic', true, r.status, r.contentType, r.text)).toBeUndefined();
    expect(sse(r.text).at(-1)!.event).toBe('message_stop');
    const text = sse(r.text)
      .filter((e) => e.event === 'content_block_delta')
      .map((e) => (JSON.parse(e.data) as { delta: { text: string } }).delta.text)
      .join('');
    expect(text).toBe(reply);
    expect(await exited).toBe(0);
    expect(await waitFor(() => !isAlive(pid), 3000)).toBe(true);
    // npm relays the signal it got from the group: the server sees it twice, and drains once
    console.log(`SIGINT to the group: ${count(output(), 'signal relayed again')} relayed deliveries taken for the same stop`);
    expect(count(output(), 'shutting down: draining')).toBe(1);
    expect(output()).not.toMatch(/exiting now|already draining/);
    expect(await waitFor(() => tree.pids.every((p) => !isAlive(p)), 3000)).toBe(true);
    expect(tree.sandboxes.every((s) => !existsSync(s))).toBe(true);
  });

  it('SIGTERM to the whole process group (kill -- -PGID) is one drain too', async () => {
    const { child, serverPid: pid, exited, output } = await startServerProcess({ LOG_LEVEL: 'debug' }, { npm: 'start' });
    process.kill(-child.pid!, 'SIGTERM');
    expect(await exited).toBe(0);
    expect(await waitFor(() => !isAlive(pid), 3000)).toBe(true);
    expect(count(output(), 'shutting down: draining')).toBe(1);
    expect(output()).not.toMatch(/exiting now|already draining/);
  });

  it('streams still open when the grace ends get their dialect\'s terminal error, other requests a 503 in theirs, before the sockets close', async () => {
    const grace = 2000;
    const dialects: Dialect[] = ['openai', 'anthropic', 'gemini', 'responses'];
    const { url, child, serverPid: pid, exited } = await startServerProcess({ SHUTDOWN_GRACE: String(grace), SSE_KEEPALIVE_INTERVAL: '0.5', WORKER_CONCURRENCY: '8' }, { npm: 'start' });
    fake!.setScript({ reply: Array.from({ length: 300 }, (_, i) => `w${i}`).join(' '), chunks: 300, chunkDelayMs: 100 });
    const answers = dialects.flatMap((d) => [open(url, d, true), open(url, d, false)]);
    // every stream open, every CLI talking to the upstream
    await Promise.all(answers.filter((_, i) => i % 2 === 0).map((a) => a.first));
    expect(await waitFor(() => fake!.requests.filter((q) => q.path === '/v1/messages').length >= 8, 30_000)).toBe(true);
    const tree = await cliTree(pid);
    expect(tree.sandboxes.length).toBe(8);

    const t0 = performance.now();
    child.kill('SIGTERM');
    const results = await Promise.all(answers.map((a) => a.done));
    console.log(`grace end: ${results.length} answers ended ${Math.round(performance.now() - t0)} ms after SIGTERM (SHUTDOWN_GRACE ${grace})`);
    for (const r of results) {
      const what = `${r.dialect} ${r.stream ? 'stream' : 'non-stream'}: ${r.text.slice(-300)}`;
      expect(r.text, what).not.toMatch(/connection failed/);
      expect(checkResponse(r.dialect, r.stream, r.status, r.contentType, r.text), what).toBeUndefined();
      if (!r.stream) {
        expect(r.status, what).toBe(503);
        continue;
      }
      expect(r.status, what).toBe(200);
      const events = sse(r.text);
      const last = events.at(-1)!;
      if (r.dialect === 'openai') {
        expect(last.data, what).toBe('[DONE]');
        expect(JSON.parse(events.at(-2)!.data), what).toMatchObject({ error: { code: 'shutting_down' } });
      } else if (r.dialect === 'anthropic') {
        expect(last.event, what).toBe('error');
        expect(JSON.parse(last.data), what).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
      } else if (r.dialect === 'gemini') {
        expect(JSON.parse(last.data), what).toMatchObject({ error: { code: 503, status: 'UNAVAILABLE' } });
      } else {
        expect(last.event, what).toBe('response.failed');
        expect(JSON.parse(last.data), what).toMatchObject({ type: 'response.failed', response: { status: 'failed', error: { code: 'shutting_down' } } });
      }
    }
    expect(await exited).toBe(0);
    expect(await waitFor(() => tree.pids.every((p) => !isAlive(p)), 3000)).toBe(true);
    expect(tree.sandboxes.every((s) => !existsSync(s))).toBe(true);
  });
});

describe('npm run dev', () => {
  it('Ctrl-C (SIGINT to the group) stops it cleanly: one drain, the running stream finishes, nothing left', async () => {
    const { url, child, serverPid: pid, exited, output } = await startServerProcess({ SHUTDOWN_GRACE: '20000', LOG_LEVEL: 'debug' }, { npm: 'dev' });
    const reply = Array.from({ length: 10 }, (_, i) => `word${i}`).join(' ');
    fake!.setScript({ reply, chunks: 10, chunkDelayMs: 300 });
    const answer = open(url, 'openai', true);
    const tree = await runningCli(pid, true, 10000);
    expect(tree.sandboxes.length).toBe(1);

    // the group: npm, node --watch and the server; npm and the watcher each relay it too
    process.kill(-child.pid!, 'SIGINT');
    const r = await answer.done;
    expect(checkResponse('openai', true, r.status, r.contentType, r.text)).toBeUndefined();
    expect(r.text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(r.text).not.toMatch(/"error"/);
    expect(await exited).toBe(0);
    expect(await waitFor(() => !isAlive(pid), 3000)).toBe(true);
    console.log(`npm run dev, Ctrl-C: ${count(output(), 'signal relayed again')} relayed deliveries taken for the same stop`);
    expect(count(output(), 'shutting down: draining')).toBe(1);
    expect(output()).not.toMatch(/exiting now|already draining/);
    expect(await waitFor(() => tree.pids.every((p) => !isAlive(p)), 3000)).toBe(true);
    expect(tree.sandboxes.every((s) => !existsSync(s))).toBe(true);
  });
});
