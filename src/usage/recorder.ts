/**
 * Records every chat request when its response closes (a request-log end hook): a usage record, a history entry
 * (when history is on) and the Prometheus request series. Reads what the chat handler
 * left in res.locals.
 */
import type { RequestEnd } from '../server/request-log.js';
import type { Usage } from '../core/stream.js';
import { callerName } from '../server/auth.js';
import type { Caller } from '../keys/ring.js';
import type { RequestFacts, UsageBook } from './book.js';
import type { History } from './history.js';
import type { Exchange } from './exchange.js';
import type { Metrics } from '../metrics/registry.js';
import type { Attempt } from '../routing/fallback.js';

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
    const key = callerName(res.locals.caller as Caller | undefined);
    const facts: RequestFacts = {
      t: Date.now(),
      requestId: String(res.locals.requestId ?? ''),
      dialect: String(res.locals.surface?.dialect ?? ''),
      provider: chat.provider,
      model: chat.model,
      ...(exchange?.account ? { account: exchange.account } : {}),
      ...(key ? { key } : {}),
      ...(fallbacks?.length ? { fallbacks } : {}),
      status,
      durationMs,
    };
    const tokens = { tokensIn: usage?.inputTokens ?? 0, tokensOut: usage?.outputTokens ?? 0, tokensCached: usage?.cacheReadTokens ?? 0 };
    sinks.metrics?.request({ ...facts, ...(exchange?.firstTokenMs !== undefined ? { firstTokenMs: exchange.firstTokenMs } : {}), ...tokens });
    sinks.usage?.record({ ...facts, ...tokens, stream: chat.stream, ...(error?.code ? { error: error.code } : {}) });
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
