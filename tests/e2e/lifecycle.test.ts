/**
 * Process lifecycle with the real claude CLI: client abort, MAX_TIMEOUT, queue
 * limits, keepalive. Each asserts by PID that no process of the tree survives and
 * that the sandbox is gone.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { startStack, processTree, isAlive, waitFor, type TestStack } from '../helpers/server.js';
import { livePids, spawnedTotal } from '../../src/runtime/process.js';
import { liveSandboxes } from '../../src/runtime/sandbox.js';
import { backgroundSettled } from '../../src/runtime/background.js';

let stack: TestStack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const chat = (url: string, body: object, signal?: AbortSignal) =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }], ...body }),
    ...(signal ? { signal } : {}),
  });

async function health(url: string) {
  return (await (await fetch(`${url}/health`)).json()) as { workers: { running: number; waiting: number }; cliProcesses: number; sandboxes: number };
}

describe('lifecycle', () => {
  it('client abort mid-stream kills the whole CLI tree within a second and removes the sandbox', async () => {
    stack = await startStack({}, { reply: 'word '.repeat(200), chunks: 100, chunkDelayMs: 100 });
    const ctl = new AbortController();
    const res = await chat(stack.url, { stream: true }, ctl.signal);
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = await reader.read(); // the stream is live: text is flowing
    expect(new TextDecoder().decode(first.value)).toContain('data:');
    const [pid] = livePids();
    expect(pid).toBeDefined();
    const tree = await processTree(pid!);
    const [sandbox] = liveSandboxes();
    expect(sandbox && existsSync(sandbox)).toBe(true);

    ctl.abort();
    const t0 = Date.now();
    expect(await waitFor(() => tree.every((p) => !isAlive(p)), 1500)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(await waitFor(() => !existsSync(sandbox!), 1500)).toBe(true);
    expect(await waitFor(() => liveSandboxes().length === 0 && livePids().length === 0, 1500)).toBe(true);
    // Claude Code's per-cwd session transcript is removed too
    const projectDir = `${stack.home}/.claude/projects/${sandbox!.replace(/[^a-zA-Z0-9]/g, '-')}`;
    expect(await waitFor(() => !existsSync(projectDir), 1500)).toBe(true);
  });

  it('MAX_TIMEOUT kills a hung CLI tree and answers 504 in OpenAI shape', async () => {
    stack = await startStack({ MAX_TIMEOUT: '2500' }, { hang: true });
    let tree: number[] = [];
    const watcher = waitFor(async () => {
      const [pid] = livePids();
      if (pid) tree = await processTree(pid);
      return tree.length > 0;
    }, 2000);
    const res = await chat(stack.url, {});
    await watcher;
    expect(res.status).toBe(504);
    const body = (await res.json()) as { error: { type: string; code: string; message: string } };
    expect(body.error.code).toBe('timeout');
    expect(body.error.message).toMatch(/MAX_TIMEOUT/);
    expect(tree.length).toBeGreaterThan(0);
    expect(await waitFor(() => tree.every((p) => !isAlive(p)), 1500)).toBe(true);
    await backgroundSettled(); // sandbox removal runs after the response
    expect(liveSandboxes()).toEqual([]);
  });

  it('a full queue answers 429 with Retry-After at once; a queued request whose client leaves never spawns', async () => {
    stack = await startStack({ WORKER_CONCURRENCY: '1', QUEUE_LIMIT: '1' }, { hang: true });
    const a = new AbortController();
    const b = new AbortController();
    const pa = chat(stack.url, { stream: true }, a.signal).catch(() => undefined);
    expect(await waitFor(async () => (await health(stack!.url)).workers.running === 1)).toBe(true);
    const pb = chat(stack.url, { stream: true }, b.signal).catch(() => undefined);
    expect(await waitFor(async () => (await health(stack!.url)).workers.waiting === 1)).toBe(true);

    const c = await chat(stack.url, {});
    expect(c.status).toBe(429);
    expect(Number(c.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await c.json()) as { error: { type: string; code: string } };
    expect(body.error).toMatchObject({ type: 'rate_limit_exceeded', code: 'queue_full' });

    const spawnedBefore = spawnedTotal();
    b.abort();
    await pb;
    expect(await waitFor(async () => (await health(stack!.url)).workers.waiting === 0)).toBe(true);
    a.abort();
    await pa;
    expect(await waitFor(async () => (await health(stack!.url)).workers.running === 0)).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(spawnedTotal()).toBe(spawnedBefore); // B left the queue and was never started
    expect(livePids()).toEqual([]);
  });

  it('sends ": keepalive" comments before the first token', async () => {
    stack = await startStack({ SSE_KEEPALIVE_INTERVAL: '0.2' }, { reply: 'late answer', delayMs: 2500 });
    const res = await chat(stack.url, { stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const text = await res.text();
    const firstData = text.indexOf('data:');
    const before = text.slice(0, firstData);
    expect(before.match(/: keepalive\n\n/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
    expect(text).toContain('late answer');
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
  });

  it('a missing CLI is a 503 that says how to fix it, and leaves nothing behind', async () => {
    stack = await startStack({ CLAUDE_CLI_PATH: '/nonexistent/claude' });
    const res = await chat(stack.url, {});
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('cli_not_found');
    expect(body.error.message).toMatch(/CLAUDE_CLI_PATH/);
    await backgroundSettled(); // sandbox removal runs after the response
    expect(liveSandboxes()).toEqual([]);
  });
});
