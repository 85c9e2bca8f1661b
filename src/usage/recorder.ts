/**
 * Records every chat request when its response closes (a request-log end hook): a usage record, a history entry
 * (when history is on) and the Prometheus request series. Reads what the chat handler
 * left in res.locals.
 */
import { createHash } from 'node:crypto';
import type { RequestEnd } from '../server/request-log.js';
import type { Usage } from '../core/stream.js';
import { presentedKey } from '../server/auth.js';
import type { RequestFacts, UsageBook } from './book.js';
import type { History } from './history.js';
import type { Exchange } from './exchange.js';
import type { Metrics } from '../metrics/registry.js';
import type { Attempt } from '../routing/fallback.js';

const keyIds = new Map<string, string>();

/** a stable, short, non-reversible name for the key a client used (the few keys in use are remembered) */
export function keyId(key: string | undefined): string | undefined {
  if (!key) return undefined;
  let id = keyIds.get(key);
  if (!id) {
    if (keyIds.size >= 256) keyIds.clear();
    id = `key-${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;
    keyIds.set(key, id);
  }
  return id;
}

export interface RequestSinks {
  usage?: UsageBook;
  history?: History;
  metrics?: Metrics;
}

export function requestRecorder(sinks: RequestSinks): RequestEnd {
  return (req, res, durationMs) => {
    const chat = res.locals.chat as { model: string; provider: string; stream: boolean } | undefined;
    if (!chat) return; // not a chat request, or it failed before routing
    const usage = res.locals.usage as Usage | undefined;
    const exchange = res.locals.exchange as Exchange | undefined;
    const fallbacks = (res.locals.attempts as Attempt[] | undefined)?.map((a) => `${a.target}:${a.status}`);
    const error = (res.locals.streamError ?? res.locals.error) as { code?: string; message?: string } | undefined;
    // a stream that failed after it opened is a 200 on the wire but an error here
    const status = res.locals.streamError ? 502 : res.writableFinished ? res.statusCode : 499;
    const facts: RequestFacts = {
      t: Date.now(),
      requestId: String(res.locals.requestId ?? ''),
      dialect: String(res.locals.surface?.dialect ?? ''),
      provider: chat.provider,
      model: chat.model,
      ...(exchange?.account ? { account: exchange.account } : {}),
      ...(fallbacks?.length ? { fallbacks } : {}),
      status,
      durationMs,
    };
    const key = keyId(presentedKey(req));
    const tokens = { tokensIn: usage?.inputTokens ?? 0, tokensOut: usage?.outputTokens ?? 0, tokensCached: usage?.cacheReadTokens ?? 0 };
    sinks.metrics?.request({ ...facts, ...(exchange?.firstTokenMs !== undefined ? { firstTokenMs: exchange.firstTokenMs } : {}), ...tokens });
    sinks.usage?.record({ ...facts, ...(key ? { key } : {}), ...tokens, stream: chat.stream, ...(error?.code ? { error: error.code } : {}) });
    if (exchange && sinks.history)
      sinks.history.add({
        ...facts,
        prompt: exchange.prompt,
        messages: exchange.messages,
        answer: exchange.answer,
        ...(exchange.toolCalls.length ? { toolCalls: exchange.toolCalls } : {}),
        ...(error?.message ? { error: error.message } : {}),
      });
  };
}
