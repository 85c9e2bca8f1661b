/**
 * One upstream call on undici's dispatch() API: the status and headers as a promise, the
 * body as an async iterable of the chunks as they arrive. undici's request() wraps the same
 * call in a Readable stream (and its async iterator, and an AbortSignal bridge) that a relay
 * reading each chunk once does not need: on the bench relay path (bench/passthrough) that
 * wrapping cost ~35 µs before the call left and ~50 µs after the answer arrived, about as
 * much as cligate's whole translation. Backpressure is kept: the socket is paused while
 * HIGH_WATER bytes wait unread.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';

/** bytes received and not yet read at which the socket is paused (a Readable's default is 64 kB) */
const HIGH_WATER = 64 * 1024;

export interface UpstreamBody extends AsyncIterable<Buffer> {
  /** the whole body as UTF-8 text */
  text(): Promise<string>;
  /** the whole body parsed as JSON (a SyntaxError when it is not) */
  json(): Promise<unknown>;
}

export interface UpstreamResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: UpstreamBody;
}

export interface DispatchOptions {
  method: 'POST' | 'GET';
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/** the response's body, fed by the dispatch handler, read once by its consumer */
class BodyQueue implements UpstreamBody {
  private chunks: Buffer[] = [];
  private queued = 0;
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly controller: Dispatcher.DispatchController) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.queued += chunk.length;
    if (this.queued >= HIGH_WATER) this.controller.pause();
    this.notify();
  }

  end(err?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = err;
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    try {
      for (;;) {
        if (this.chunks.length) {
          const batch = this.chunks;
          this.chunks = [];
          this.queued = 0;
          if (this.controller.paused) this.controller.resume();
          for (const c of batch) yield c;
          continue;
        }
        if (this.failure) throw this.failure;
        if (this.ended) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    } finally {
      // a reader that stops early: the rest of the answer is not wanted, and the connection
      // must not wait with it half read
      if (!this.ended) this.controller.abort(new Error('the upstream body was not read to its end'));
    }
  }

  async text(): Promise<string> {
    const parts: Buffer[] = [];
    for await (const c of this) parts.push(c);
    return Buffer.concat(parts).toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }
}

/** `url` is parsed here when it is a string (a URL object made once is not parsed again) */
export function dispatchRequest(dispatcher: Dispatcher, url: string | URL, opts: DispatchOptions): Promise<UpstreamResponse> {
  return new Promise<UpstreamResponse>((resolve, reject) => {
    const { signal } = opts;
    if (signal?.aborted) return reject(signal.reason);
    let u: URL;
    try {
      u = typeof url === 'string' ? new URL(url) : url;
    } catch (err) {
      return reject(err);
    }
    let controller: Dispatcher.DispatchController | undefined;
    let body: BodyQueue | undefined;
    let settled = false;
    const onAbort = () => {
      if (controller) return controller.abort(signal!.reason);
      // not on a socket yet (connecting, or queued): the caller hears at once; the request is
      // dropped when it reaches a socket (onRequestStart)
      if (!settled) {
        settled = true;
        reject(signal!.reason);
      }
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => signal?.removeEventListener('abort', onAbort);
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (signal?.aborted) c.abort(signal.reason);
      },
      onResponseStart(c, statusCode, headers) {
        if (statusCode < 200) return; // 1xx: the answer is still to come
        body = new BodyQueue(c);
        settled = true;
        resolve({ statusCode, headers, body });
      },
      onResponseData(_c, chunk) {
        body?.push(chunk);
      },
      onResponseEnd() {
        done();
        body?.end();
      },
      onResponseError(_c, err) {
        done();
        if (!settled) {
          settled = true;
          reject(err);
        } else body?.end(err);
      },
    };
    dispatcher.dispatch({ origin: u.origin, path: u.pathname + u.search, method: opts.method, headers: opts.headers, body: opts.body ?? null }, handler);
  });
}
