/**
 * Slow and oversized request bodies, from a raw socket (an HTTP client library would
 * hide what happens on the wire): a body still trickling in at BODY_TIMEOUT gets 408 in its
 * route's dialect and the connection is closed, while other requests are served meanwhile;
 * a declared Content-Length over BODY_LIMIT gets 413 before the body is read (the client has
 * sent 1 MB of 60 MB and waits). Timings are printed; the assertions are on order and on
 * wide margins, never tight wall-clock limits.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type TestStack } from '../helpers/server.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai.js';
import { errorShape, type Dialect } from '../helpers/dialects.js';
import { parseSize } from '../../src/server/body.js';

const BODY_TIMEOUT = 1500;
const MODEL = 'local-llama';
let upstream: FakeOpenAI;
let stack: TestStack;

beforeAll(async () => {
  upstream = await startFakeOpenAI();
  upstream.setScript({ reply: 'served' });
  stack = await startStack({
    BODY_TIMEOUT: String(BODY_TIMEOUT),
    BODY_LIMIT: '10mb',
    OPENAI_COMPATIBLE_BASE_URL: `${upstream.url}/v1`,
    OPENAI_COMPATIBLE_MODELS: MODEL,
  });
});
afterAll(async () => {
  await stack?.close();
  await upstream?.close();
});

interface RawResult {
  status: number;
  body: unknown;
  headers: string;
  /** ms from the first byte sent to the answer's first byte */
  answeredAfter: number;
  /** performance.now() at the answer's first byte */
  answeredAt: number;
  /** the server ended the connection (its FIN), not this client's timeout */
  ended: boolean;
}

/** sends the head, then `feed` writes the body its own way; resolves when the answer is complete and the server ended the connection */
function raw(head: string, feed: (s: net.Socket) => void): Promise<RawResult> {
  const { port } = new URL(stack.url);
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(port), '127.0.0.1');
    const t0 = performance.now();
    let answeredAt = 0;
    let ended = false;
    let out = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      answeredAt ||= performance.now();
      out = Buffer.concat([out, d]);
    });
    s.on('end', () => (ended = true));
    s.on('error', () => {}); // a write after the server's end: the answer, if any, is what counts
    s.on('close', () => {
      const text = out.toString('utf8');
      const at = text.indexOf('\r\n\r\n');
      if (at === -1) return reject(new Error(`no answer: ${JSON.stringify(text.slice(0, 200))}`));
      const headers = text.slice(0, at);
      let body: unknown;
      try {
        body = JSON.parse(text.slice(at + 4));
      } catch {
        body = text.slice(at + 4);
      }
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(headers)?.[1]), body, headers, answeredAt, answeredAfter: answeredAt - t0, ended });
    });
    s.setTimeout(30_000, () => s.destroy());
    s.write(head);
    feed(s);
  });
}

const head = (path: string, length: number) => `POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

describe('request bodies', () => {
  it('a body trickling in (1 KB/s) gets 408 in its dialect at BODY_TIMEOUT and the connection closed; other requests are served meanwhile', async () => {
    const routes: [Dialect, string][] = [['anthropic', '/v1/messages'], ['openai', '/v1/chat/completions'], ['gemini', `/v1beta/models/${MODEL}:generateContent`]];
    const trickles = routes.map(([, path]) =>
      raw(head(path, 100_000), (s) => {
        const timer = setInterval(() => (s.destroyed ? clearInterval(timer) : s.write(Buffer.alloc(1024, 0x20))), 1000);
        s.on('close', () => clearInterval(timer));
      }),
    );
    // meanwhile: ordinary requests, one after another, all answered
    const served: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      const r = await fetch(`${stack.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }) });
      expect(r.status).toBe(200);
      expect(((await r.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe('served');
      served.push(performance.now() - t);
    }
    const servedAllAt = performance.now();
    const results = await Promise.all(trickles);
    console.log(`trickling bodies: 408 after ${results.map((r) => Math.round(r.answeredAfter)).join(' / ')} ms (BODY_TIMEOUT ${BODY_TIMEOUT}); requests served meanwhile in ${served.map(Math.round).join(', ')} ms`);
    results.forEach((r, i) => {
      const [dialect] = routes[i]!;
      expect(r.status, dialect).toBe(408);
      expect(errorShape(dialect, r.body), dialect).toBeUndefined();
      expect(r.headers).toMatch(/^Connection: close$/im);
      expect(r.ended, `${dialect}: the server ended the connection`).toBe(true);
      // not before the timeout; generous after it
      expect(r.answeredAfter).toBeGreaterThanOrEqual(BODY_TIMEOUT * 0.9);
      expect(r.answeredAfter).toBeLessThan(BODY_TIMEOUT + 10_000);
    });
    expect((results[0]!.body as { error: { type: string } }).error.type).toBe('timeout_error');
    // the ordinary requests were all answered while the slow bodies were still coming
    for (const r of results) expect(servedAllAt).toBeLessThan(r.answeredAt);
  });

  it('a declared Content-Length over BODY_LIMIT gets 413 in its dialect before the body is read (1 MB of 60 MB sent, then a pause)', async () => {
    const times: number[] = [];
    for (const [dialect, path] of [['openai', '/v1/chat/completions'], ['anthropic', '/v1/messages'], ['responses', '/v1/responses']] as [Dialect, string][]) {
      const r = await raw(head(path, 60 * 1024 * 1024), (s) => s.write(Buffer.alloc(1024 * 1024, 0x20)));
      times.push(r.answeredAfter);
      expect(r.status, dialect).toBe(413);
      expect(errorShape(dialect, r.body), dialect).toBeUndefined();
      expect(JSON.stringify(r.body)).toMatch(/BODY_LIMIT/);
      expect(r.ended, `${dialect}: the server ended the connection`).toBe(true);
      // the client never sent the rest: the answer came before the body, well inside the 30 s socket timeout
      expect(r.answeredAfter).toBeLessThan(BODY_TIMEOUT);
    }
    console.log(`oversized Content-Length: 413 after ${times.map((t) => t.toFixed(1)).join(' / ')} ms`);
  });

  it('parseSize reads BODY_LIMIT as body-parser does (1024-based units)', () => {
    expect(parseSize('10mb')).toBe(10 * 1024 * 1024);
    expect(parseSize('512kb')).toBe(512 * 1024);
    expect(parseSize('100')).toBe(100);
    expect(parseSize('1GB')).toBe(1024 ** 3);
  });
});
