/**
 * Request bodies: JSON (body-parser, within BODY_LIMIT), guarded against clients that would
 * hold a connection open with a body: a declared Content-Length over the limit is refused
 * with 413 before a byte of it is read (body-parser would read, and throw away, all of it
 * first), and a body that has not fully arrived within BODY_TIMEOUT gets 408. Both answers
 * are in the route's dialect (the error handler's), and the connection is closed after them.
 */
import type { Socket } from 'node:net';
import express from 'express';
import { CligateError, PayloadTooLarge } from '../core/errors.js';
import { refuseDeepJson } from './errors.js';
import type { ApiHandler, ApiRequest, ApiResponse } from './http-types.js';

const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** "10mb" -> bytes, in the 1024-based units body-parser reads BODY_LIMIT in */
export function parseSize(size: string): number {
  const m = /^(\d+)(b|kb|mb|gb)?$/i.exec(size.trim());
  if (!m) throw new Error(`not a size: ${size}`);
  return Number(m[1]) * UNITS[(m[2] ?? 'b').toLowerCase()]!;
}

/** after a refusal, how long what the client still sends is read and dropped before the connection is cut */
export const LINGER_MS = 2000;

/**
 * The answer is the last thing on this connection: what is left of the body is not waited for.
 * Node ends such a connection by destroying its socket right after the answer; with body bytes
 * still unread that sends a reset, and a client still writing its body may lose the answer
 * before it reads it. So this socket half-closes instead (the client reads the answer and an
 * end), and is destroyed when the client closes its side, or after LINGER_MS.
 */
function lastOnConnection(res: ApiResponse): void {
  if (!res.headersSent) res.setHeader('Connection', 'close');
  const socket = res.socket as (Socket & { destroySoon?: () => void }) | null;
  if (!socket || typeof socket.destroySoon !== 'function') return;
  socket.destroySoon = () => {
    socket.end();
    const cut = setTimeout(() => socket.destroy(), LINGER_MS);
    cut.unref();
    socket.once('close', () => clearTimeout(cut));
  };
}

export interface JsonBodyOptions {
  /** BODY_LIMIT, e.g. "10mb" */
  limit: string;
  /** BODY_TIMEOUT, ms (0 = none) */
  timeoutMs: number;
}

/** the plain case: a declared length, no content encoding, JSON in UTF-8 (the charset named or not) */
const PLAIN_JSON = /^application\/json\s*(?:;\s*charset="?utf-8"?\s*)?$/i;

/**
 * The plain case read directly: the chunks gathered, the depth checked, JSON.parse, with the
 * errors body-parser gives in this case (the same `type`, status and message, so the error
 * handler answers them alike). body-parser's own set-up per request (content type and charset
 * parsing, iconv decoders, raw-body's bookkeeping) costs several times the read itself.
 */
function readPlainJson(req: ApiRequest, res: ApiResponse, next: (err?: unknown) => void): void {
  const chunks: Buffer[] = [];
  let finished = false;
  const finish = (err?: unknown) => {
    if (finished) return;
    finished = true;
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('aborted', onAborted);
    req.off('close', onClose);
    req.off('error', onError);
    next(err);
  };
  const onData = (c: Buffer) => chunks.push(c);
  const onAborted = () => finish(Object.assign(new Error('request aborted'), { status: 400, code: 'ECONNABORTED', type: 'request.aborted' }));
  const onClose = () => {
    if (!req.complete) onAborted();
  };
  const onError = (e: Error) => finish(Object.assign(e, { status: 400 }));
  const onEnd = () => {
    let buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    try {
      refuseDeepJson(req, res, buf);
    } catch (e) {
      const err = e as Error & { type?: string };
      err.type ??= 'entity.verify.failed';
      return finish(err);
    }
    // a UTF-8 byte order mark is dropped, as body-parser's decoder drops it
    if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
    const text = buf.toString('utf8');
    try {
      // an empty body is {}, as body-parser has it
      req.body = text.length === 0 ? {} : JSON.parse(text);
    } catch (e) {
      return finish(Object.assign(e as Error, { status: 400, type: 'entity.parse.failed' }));
    }
    finish();
  };
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('aborted', onAborted);
  req.on('close', onClose);
  req.on('error', onError);
}

export function jsonBody(opts: JsonBodyOptions): ApiHandler {
  // non-strict: a JSON string or array is valid JSON, and the surface says it must be an object
  const parser = express.json({ limit: opts.limit, strict: false, verify: refuseDeepJson }) as unknown as ApiHandler;
  // anything but the plain case (compressed, another charset or type, no length) goes to body-parser
  const parse: ApiHandler = (req, res, next) => {
    const h = req.headers;
    if (!req.readableEnded && h['content-length'] !== undefined && h['content-encoding'] === undefined && h['transfer-encoding'] === undefined && PLAIN_JSON.test(h['content-type'] ?? '')) return readPlainJson(req, res, next);
    return parser(req, res, next);
  };
  const limitBytes = parseSize(opts.limit);
  const seconds = Math.round(opts.timeoutMs / 100) / 10;
  return (req, res, next) => {
    // absent: NaN, which is no larger than anything
    const declared = Number(req.headers['content-length']);
    if (declared > limitBytes) {
      lastOnConnection(res);
      return next(new PayloadTooLarge(`The request body is ${declared} bytes (Content-Length); at most ${limitBytes} are accepted (BODY_LIMIT).`));
    }
    if (!opts.timeoutMs || req.complete) return parse(req, res, next);
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      lastOnConnection(res);
      next(new CligateError('timeout', 408, `The request body did not arrive within ${seconds} s (BODY_TIMEOUT).`, { code: 'request_timeout' }));
    }, opts.timeoutMs);
    parse(req, res, (err?: unknown) => {
      // after a 408 the parser still ends (the connection closes under it): nobody to tell
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      next(err);
    });
  };
}
