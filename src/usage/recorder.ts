/**
 * Records every chat request when its response closes (a request-log end hook): a usage record, a history entry
 * (when history is on) and the Prometheus request series. Reads what the chat handler
 * left in res.locals.
 */
import type { RequestEnd } from '../server/request-log.js';
import type { Usage } from '../core/stream.js';
import { callerName } from '../server/auth.js';
import type { Caller } from '../keys/ring.js';
import type { RequestFacts, UsageBook, UsageRecord } from './book.js';
import type { History, HistoryEntry } from './history.js';
import type { Exchange } from './exchange.js';
import type { Metrics, RequestObservation } from '../metrics/registry.js';
import type { Attempt } from '../routing/fallback.js';

export interface RequestSinks {
  usage?: UsageBook;
  history?: History;
  metrics?: Metrics;
}

export function requestRecorder(sinks: RequestSinks): RequestEnd {
  return (_req, res, durationMs) => {
    const locals = res.locals;
    const chat = locals.chat as { model: string; provider: string; stream: boolean } | undefined;
    if (!chat) return; // not a chat request, or it failed before routing
    const usage = locals.usage as Usage | undefined;
    const exchange = locals.exchange as Exchange | undefined;
    const attempts = locals.attempts as Attempt[] | undefined;
    const fallbacks = attempts?.length ? attempts.map((a) => `${a.target}:${a.status}`) : undefined;
    const error = (locals.streamError ?? locals.error) as { code?: string; message?: string } | undefined;
    // a stream that failed after it opened is a 200 on the wire but an error here
    const status = locals.streamError ? 502 : res.writableFinished ? res.statusCode : 499;
    const key = callerName(locals.caller as Caller | undefined);
    const t = Date.now();
    const requestId = String(locals.requestId ?? '');
    const dialect = String(locals.surface?.dialect ?? '');
    const account = exchange?.account;
    // each sink gets its own record, its fields in the same order (the day files' lines);
    // built field by field: object spreads cost more than the rest of this function
    const facts = <T extends RequestFacts>(into: Partial<T>): T => {
      into.t = t;
      into.requestId = requestId;
      into.dialect = dialect;
      into.provider = chat.provider;
      into.model = chat.model;
      if (account) into.account = account;
      if (key) into.key = key;
      if (fallbacks) into.fallbacks = fallbacks;
      into.status = status;
      into.durationMs = durationMs;
      return into as T;
    };
    const tokensIn = usage?.inputTokens ?? 0;
    const tokensOut = usage?.outputTokens ?? 0;
    const tokensCached = usage?.cacheReadTokens ?? 0;
    if (sinks.metrics) {
      const o: RequestObservation = { dialect, provider: chat.provider, model: chat.model, status, durationMs, tokensIn, tokensOut, tokensCached };
      if (key) o.key = key;
      if (exchange?.firstTokenMs !== undefined) o.firstTokenMs = exchange.firstTokenMs;
      sinks.metrics.request(o);
    }
    if (sinks.usage) {
      const r = facts<UsageRecord>({});
      r.tokensIn = tokensIn;
      r.tokensOut = tokensOut;
      r.tokensCached = tokensCached;
      r.stream = chat.stream;
      if (error?.code) r.error = error.code;
      sinks.usage.record(r);
    }
    if (exchange && sinks.history?.opts.enabled) {
      const h = facts<HistoryEntry>({});
      h.prompt = exchange.prompt;
      h.messages = exchange.messages;
      h.answer = exchange.answer;
      if (exchange.toolCalls.length) h.toolCalls = exchange.toolCalls;
      if (error?.message) h.error = error.message;
      sinks.history.add(h);
    }
  };
}
