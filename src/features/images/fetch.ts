/** Downloads an image URL a client sent, within a time and size limit, from public addresses only (unless allowed). */
import net from 'node:net';
import { fetch, type Response } from 'undici';
import { BadRequest } from '../../core/errors.js';
import { isPrivateAddress, PrivateAddressError, publicOnlyAgent } from './address-guard.js';

export interface FetchLimits {
  timeoutMs: number;
  maxBytes: number;
  /** IMAGE_FETCH_ALLOW_PRIVATE: let URLs reach loopback and private networks */
  allowPrivate?: boolean;
}

const MAX_REDIRECTS = 5;

/** follows redirects itself, so every hop's literal address is checked too */
async function get(url: string, limits: FetchLimits, signal: AbortSignal, fail: (why: string) => BadRequest): Promise<Response> {
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const u = new URL(current);
    if (!/^https?:$/.test(u.protocol)) throw fail('only http and https URLs are fetched');
    const host = u.hostname.replace(/^\[|\]$/g, '');
    if (!limits.allowPrivate && net.isIP(host) && isPrivateAddress(host)) throw fail(`${host} is a private address (IMAGE_FETCH_ALLOW_PRIVATE)`);
    const res = await fetch(current, { signal, redirect: 'manual', headers: { accept: 'image/*' }, ...(limits.allowPrivate ? {} : { dispatcher: publicOnlyAgent }) });
    const next = res.status >= 300 && res.status < 400 ? res.headers.get('location') : null;
    if (!next) return res;
    await res.body?.cancel().catch(() => {});
    current = new URL(next, current).toString();
  }
  throw fail(`more than ${MAX_REDIRECTS} redirects`);
}

export async function fetchImage(url: string, limits: FetchLimits, where: string, signal?: AbortSignal): Promise<{ data: Buffer; mediaType?: string }> {
  const fail = (why: string) => new BadRequest(`${where}: could not fetch ${url} (${why}).`, { param: where, code: 'image_fetch_failed' });
  if (!/^https?:\/\//i.test(url)) throw fail('only http and https URLs are fetched');
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
  let res: Response;
  try {
    res = await get(url, limits, both, fail);
  } catch (err) {
    if (err instanceof BadRequest) throw err;
    if (timeout.aborted) throw fail(`no answer within ${limits.timeoutMs} ms (IMAGE_FETCH_TIMEOUT)`);
    const cause = (err as Error).cause;
    if (cause instanceof PrivateAddressError) throw fail(`${cause.message} (IMAGE_FETCH_ALLOW_PRIVATE)`);
    throw fail(cause ? String((cause as Error).message ?? cause) : (err as Error).message);
  }
  const tooBig = () => fail(`larger than ${limits.maxBytes} bytes (IMAGE_FETCH_MAX_BYTES)`);
  try {
    if (!res.ok) throw fail(`HTTP ${res.status}`);
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > limits.maxBytes) throw tooBig();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body ?? []) {
      size += chunk.length;
      if (size > limits.maxBytes) throw tooBig();
      chunks.push(Buffer.from(chunk));
    }
    const type = res.headers.get('content-type')?.split(';')[0]?.trim();
    return { data: Buffer.concat(chunks), ...(type ? { mediaType: type } : {}) };
  } catch (err) {
    if (timeout.aborted && !(err instanceof BadRequest)) throw fail(`no complete answer within ${limits.timeoutMs} ms (IMAGE_FETCH_TIMEOUT)`);
    throw err;
  } finally {
    // stop a download we no longer read
    await res.body?.cancel().catch(() => {});
  }
}
