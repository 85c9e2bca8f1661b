/** Downloads an image URL a client sent, within a time and size limit. */
import { BadRequest } from '../../core/errors.js';

export interface FetchLimits {
  timeoutMs: number;
  maxBytes: number;
}

export async function fetchImage(url: string, limits: FetchLimits, where: string, signal?: AbortSignal): Promise<{ data: Buffer; mediaType?: string }> {
  const fail = (why: string) => new BadRequest(`${where}: could not fetch ${url} (${why}).`, { param: where, code: 'image_fetch_failed' });
  if (!/^https?:\/\//i.test(url)) throw fail('only http and https URLs are fetched');
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
  let res: Response;
  try {
    res = await fetch(url, { signal: both, redirect: 'follow', headers: { accept: 'image/*' } });
  } catch (err) {
    if (timeout.aborted) throw fail(`no answer within ${limits.timeoutMs} ms (IMAGE_FETCH_TIMEOUT)`);
    throw fail((err as Error).cause ? String(((err as Error).cause as Error).message ?? (err as Error).cause) : (err as Error).message);
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
