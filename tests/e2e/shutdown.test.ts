/**
 * SIGTERM drains the real server process: it stops accepting, lets running
 * requests finish within SHUTDOWN_GRACE, then kills what is left and removes
 * every sandbox.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { readlinkSync, existsSync } from 'node:fs';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { claudeTestEnv, CLAUDE_BIN } from '../helpers/claude-env.js';
import { processTree, isAlive, waitFor } from '../helpers/server.js';
import { spawnServer } from '../helpers/server-process.js';

let fake: FakeAnthropic | undefined;
let server: ChildProcess | undefined;
let cleanupHome: (() => Promise<void>) | undefined;

afterEach(async () => {
  if (server?.exitCode === null) server.kill('SIGKILL');
  await fake?.close();
  await cleanupHome?.();
});

async function startServerProcess(extra: Record<string, string>) {
  fake = await startFakeAnthropic();
  const claude = await claudeTestEnv(fake.url);
  cleanupHome = claude.cleanup;
  const running = await spawnServer({ ...claude.env, CLAUDE_CLI_PATH: CLAUDE_BIN, ...extra });
  server = running.child;
  return running;
}

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

describe('SIGTERM', () => {
  it('lets a running stream finish, refuses new work, exits 0 and leaves nothing', async () => {
    const { url, child, exited } = await startServerProcess({ SHUTDOWN_GRACE: '20000' });
    const reply = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
    fake!.setScript({ reply, chunks: 30, chunkDelayMs: 100 });
    const response = chat(url);
    let tree = { pids: [] as number[], sandboxes: [] as string[] };
    await waitFor(async () => {
      tree = await cliTree(child.pid!);
      return tree.sandboxes.length > 0;
    }, 5000);
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
    let tree = { pids: [] as number[], sandboxes: [] as string[] };
    await waitFor(async () => {
      tree = await cliTree(child.pid!);
      return tree.sandboxes.length > 0 && fake!.requests.length > 0;
    }, 10000);
    expect(tree.pids.length).toBeGreaterThan(0);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await pending;
    expect(await waitFor(() => tree.pids.every((p) => !isAlive(p)), 1500)).toBe(true);
    expect(tree.sandboxes.every((s) => !existsSync(s))).toBe(true);
  });
});
