/**
 * requestVia (src/accounts/dispatch-response.ts) against real HTTP servers on 127.0.0.1: the
 * body streams as it is written, backpressure reaches the upstream's socket, an abort or a
 * reader that stops early closes the upstream connection, and failures reject.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { requestVia, upstreamFailure } from '../../src/accounts/http.js';
import { freePort } from '../helpers/net.js';

const servers: http.Server[] = [];
async function serve(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** an upstream that answers with `answer` and never ends; closed() resolves when it sees the connection close */
async function watched(answer: (res: http.ServerResponse) => void): Promise<{ base: string; closed: () => Promise<void> }> {
  let seen!: Promise<void>;
  const base = await serve((_req, res) => {
    seen = new Promise<void>((r) => res.once('close', () => r()));
    answer(res);
  });
  return { base, closed: () => seen };
}

describe('requestVia', () => {
  it('sends method, headers and body; gives status and headers; the body arrives chunk by chunk as the upstream writes it', async () => {
    let seen: { method?: string; type?: string; body: string } = { body: '' };
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const base = await serve(async (req, res) => {
      for await (const c of req) seen.body += c;
      seen = { ...seen, method: req.method, type: req.headers['content-type'] };
      res.writeHead(200, { 'content-type': 'text/event-stream', 'x-up': 'yes' });
      res.write('first\n');
      await gate; // the second part only once the first has been read
      res.end('second\n');
    });
    const r = await requestVia(undefined, new URL(`${base}/v1/chat?x=1`), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['x-up']).toBe('yes');
    const got: string[] = [];
    for await (const chunk of r.body) {
      got.push(chunk.toString());
      if (got.length === 1) release();
    }
    expect(got.join('')).toBe('first\nsecond\n');
    expect(got[0]).toBe('first\n');
    expect(seen).toEqual({ method: 'POST', type: 'application/json', body: '{"a":1}' });
  });

  it('text() and json() read the whole body; an answer that is not JSON is a SyntaxError', async () => {
    const base = await serve((req, res) => res.end(req.url === '/json' ? '{"ok":true}' : 'not json'));
    expect(await (await requestVia(undefined, `${base}/json`, { method: 'GET', headers: {} })).body.json()).toEqual({ ok: true });
    await expect((await requestVia(undefined, `${base}/text`, { method: 'GET', headers: {} })).body.json()).rejects.toThrow(SyntaxError);
  });

  it('an HTTP failure is read by upstreamFailure: 429 with its retry-after, 401 as credentials', async () => {
    const base = await serve((req, res) => {
      if (req.url === '/429') res.writeHead(429, { 'retry-after': '7' }).end('slow down');
      else res.writeHead(401).end('bad key');
    });
    const limited = await upstreamFailure(await requestVia(undefined, `${base}/429`, { method: 'GET', headers: {} }), 'Up', 'chat');
    expect(limited).toMatchObject({ status: 429, retryAfter: 7 });
    expect(limited.message).toContain('HTTP 429 slow down');
    const denied = await upstreamFailure(await requestVia(undefined, `${base}/401`, { method: 'GET', headers: {} }), 'Up', 'chat');
    expect(denied).toMatchObject({ status: 401, code: 'upstream_auth' });
  });

  it('the upstream is paused while the reader is behind, and every byte arrives once it reads', async () => {
    const CHUNK = Buffer.alloc(64 * 1024, 120);
    const TOTAL = 48 * 1024 * 1024;
    let serverRes!: http.ServerResponse;
    let blocked = false;
    const base = await serve(async (_req, res) => {
      serverRes = res;
      res.writeHead(200);
      for (let sent = 0; sent < TOTAL; sent += CHUNK.length) {
        if (!res.write(CHUNK)) {
          blocked = true;
          await new Promise((r) => res.once('drain', r));
        }
      }
      res.end();
    });
    const r = await requestVia(undefined, base, { method: 'GET', headers: {} });
    const it = r.body[Symbol.asyncIterator]();
    const first = await it.next();
    await sleep(400); // not reading: the kernel buffers fill, then the upstream's writes wait
    const flushed = serverRes.socket!.bytesWritten;
    expect(blocked).toBe(true);
    expect(flushed).toBeLessThan(TOTAL / 2);
    let bytes = (first.value as Buffer).length;
    for (let n = await it.next(); !n.done; n = await it.next()) bytes += n.value.length;
    expect(bytes).toBe(TOTAL);
  });

  it('an abort before the answer rejects at once and closes the upstream connection', async () => {
    const { base, closed } = await watched(() => {}); // never answers
    const ctl = new AbortController();
    const pending = requestVia(undefined, base, { method: 'POST', headers: {}, body: 'x', signal: ctl.signal });
    await sleep(100);
    ctl.abort(new Error('client went away'));
    await expect(pending).rejects.toThrow('client went away');
    await closed();
  });

  it('an abort in the middle of the body ends the reader with the reason and closes the upstream connection', async () => {
    const { base, closed } = await watched((res) => res.writeHead(200).write('part one'));
    const ctl = new AbortController();
    const r = await requestVia(undefined, base, { method: 'GET', headers: {}, signal: ctl.signal });
    const read = (async () => {
      for await (const _ of r.body);
    })();
    await sleep(50);
    ctl.abort(new Error('stop now'));
    await expect(read).rejects.toThrow('stop now');
    await closed();
  });

  it('a reader that stops early closes the upstream connection (nothing waits half read)', async () => {
    const { base, closed } = await watched((res) => res.writeHead(200).write('one')); // the rest never comes
    const r = await requestVia(undefined, base, { method: 'GET', headers: {} });
    for await (const chunk of r.body) {
      expect(chunk.toString()).toBe('one');
      break;
    }
    await closed();
  });

  it('an already aborted signal, a refused connection and a URL that does not parse all reject', async () => {
    const ctl = new AbortController();
    ctl.abort(new Error('aborted before'));
    await expect(requestVia(undefined, 'http://127.0.0.1:9/', { method: 'GET', headers: {}, signal: ctl.signal })).rejects.toThrow('aborted before');
    const port = await freePort();
    await expect(requestVia(undefined, `http://127.0.0.1:${port}/`, { method: 'GET', headers: {} })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(requestVia(undefined, 'not a url', { method: 'GET', headers: {} })).rejects.toThrow(TypeError);
  });
});
