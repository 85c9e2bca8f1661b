/**
 * What tests that drive a real client (Claude Code, Codex, Gemini CLI, …) against cligate share:
 * a tap that records the client's own requests on their way to cligate, and the check that no
 * process of the client's or of cligate's is left behind.
 */
import { execa } from 'execa';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { isAlive, processTree, startStack, waitFor, type TestStack } from './server.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai.js';

export interface Seen {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
  /** cligate's answer status */
  status?: number;
  /** what cligate answered, as text (SSE or JSON) */
  response: string;
  /** when the request arrived and when cligate's answer ended (Date.now()) */
  at: number;
  end?: number;
}

export interface Tap {
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

/** a pass-through in front of cligate that keeps what the client sent and what cligate answered */
export async function startTap(target: string): Promise<Tap> {
  const seen: Seen[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    let body: unknown;
    try {
      body = raw.length ? JSON.parse(raw.toString()) : undefined;
    } catch {
      body = raw.toString();
    }
    const entry: Seen = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, response: '', at: Date.now() };
    seen.push(entry);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (!['host', 'content-length', 'connection'].includes(k) && v !== undefined) headers[k] = String(v);
    try {
      const up = await fetch(`${target}${req.url}`, { method: req.method, headers, body: raw.length ? raw : undefined });
      entry.status = up.status;
      const out: Record<string, string> = {};
      up.headers.forEach((v, k) => {
        if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(k)) out[k] = v;
      });
      res.writeHead(up.status, out);
      const decoder = new TextDecoder();
      for await (const c of up.body ?? []) {
        entry.response += decoder.decode(c as Uint8Array, { stream: true });
        res.write(c);
      }
      entry.end = Date.now();
      res.end();
    } catch (err) {
      res.destroy(err as Error);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** processes anywhere whose working directory or command line is under `dir` (the client's HOME, cwd, …) */
export async function processesUnder(dir: string): Promise<string[]> {
  const { readdir, readlink, readFile: read } = await import('node:fs/promises');
  const out: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid || !isAlive(Number(pid))) continue;
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
    const cmd = (await read(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ').trim();
    if (cwd.startsWith(dir) || cmd.includes(dir)) out.push(`${pid} (cwd ${cwd}): ${cmd}`);
  }
  return out;
}

/** nothing is left running: no child of this process (the inner CLIs), no process of the client's under `root` */
export async function expectNoProcessesLeft(root: string): Promise<void> {
  const children = async () => (await processTree(process.pid)).filter((p) => p !== process.pid && isAlive(p));
  const clean = await waitFor(async () => (await children()).length === 0 && (await processesUnder(root)).length === 0, 10_000, 100);
  if (!clean) {
    const left = await children();
    const ps = left.length ? (await execa('ps', ['-o', 'pid,args', '-p', left.join(',')], { reject: false })).stdout : '';
    expect.fail(`processes left behind:\n${ps}\n${(await processesUnder(root)).join('\n')}`);
  }
}

export interface ClientStack {
  /** a throwaway folder for the clients' HOMEs and working directories */
  root: string;
  /** the OpenAI-compatible upstream behind cligate */
  upstream: FakeOpenAI;
  stack: TestStack;
  /** in front of cligate: the client talks to tap.url */
  tap: Tap;
}

/**
 * The set-up of a suite that drives a real client: a temp root, the fake OpenAI upstream serving
 * `models` through cligate's openai-compatible provider (cligate wants `key`), and a tap in front.
 * After each test nothing may be left running (and whatever was, is ended so the next test starts clean).
 */
export function useClientStack(name: string, opts: { key: string; models: string }, take: (s: ClientStack) => void): void {
  let s: ClientStack | undefined;
  beforeAll(async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), `cligate-agents-${name}-`));
    const upstream = await startFakeOpenAI();
    const stack = await startStack({ API_KEY: opts.key, OPENAI_COMPATIBLE_BASE_URL: `${upstream.url}/v1`, OPENAI_COMPATIBLE_MODELS: opts.models });
    s = { root, upstream, stack, tap: await startTap(stack.url) };
    take(s);
  });
  afterAll(async () => {
    await s?.tap.close();
    await s?.stack.close();
    await s?.upstream.close();
    if (s) await rm(s.root, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });
  afterEach(async () => {
    if (!s) return;
    try {
      await expectNoProcessesLeft(s.root);
    } finally {
      // whatever a failed run left would spoil the next test's check: end it (the client's own processes, by pid)
      for (const line of await processesUnder(s.root)) {
        try {
          process.kill(Number.parseInt(line, 10), 'SIGKILL');
        } catch {
          // gone already
        }
      }
    }
  });
}
