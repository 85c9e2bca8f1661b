/**
 * Request id (X-Request-ID in, echoed out) and, when the response closes, the request's
 * end hooks (usage, history, metrics) and one log line: one close listener per request.
 * The line's message is "request"; on a terminal src/log.ts writes it as one human line from these fields.
 */
import { randomUUID } from 'node:crypto';
import type { ApiRequest, ApiResponse, Next } from './http-types.js';
import type { Logger } from '../log.js';
import { callerName } from './auth.js';
import type { Caller } from '../keys/ring.js';

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** called once per request when its response closes */
export type RequestEnd = (req: ApiRequest, res: ApiResponse, durationMs: number) => void;

export function requestLog(log: Logger, ends: readonly RequestEnd[] = []) {
  return (req: ApiRequest, res: ApiResponse, next: Next): void => {
    const incoming = req.headers['x-request-id'];
    const id = typeof incoming === 'string' && SAFE_ID.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = id;
    res.setHeader('X-Request-ID', id);
    const started = process.hrtime.bigint();
    res.once('close', () => {
      const durationMs = Number((process.hrtime.bigint() - started) / 1_000_000n);
      for (const end of ends) end(req, res, durationMs);
      // the line is only assembled when it is written (LOG_LEVEL=warn skips it on the hot path)
      if (!log.isLevelEnabled('info')) return;
      const chat = res.locals.chat as { model?: string; provider?: string; stream?: boolean } | undefined;
      const usage = res.locals.usage as { inputTokens?: number; outputTokens?: number; cacheReadTokens?: number } | undefined;
      const dialect = (res.locals.surface as { dialect?: string } | undefined)?.dialect;
      const error = (res.locals.streamError ?? res.locals.error) as { code?: string } | undefined;
      const account = (res.locals.exchange as { account?: string } | undefined)?.account;
      const key = callerName(res.locals.caller as Caller | undefined);
      const attempts = res.locals.attempts as { target: string; status?: number }[] | undefined;
      log.info(
        {
          requestId: id,
          method: req.method,
          path: (req.originalUrl ?? req.url ?? '').split('?')[0],
          status: res.statusCode,
          durationMs,
          ...(dialect && chat ? { dialect } : {}),
          ...(chat ?? {}),
          ...(account ? { account } : {}),
          ...(key ? { key } : {}),
          ...(attempts?.length ? { fallbacks: attempts.map((a) => `${a.target}:${a.status}`) } : {}),
          ...(usage ? { tokensIn: usage.inputTokens, tokensOut: usage.outputTokens, ...(usage.cacheReadTokens ? { tokensCached: usage.cacheReadTokens } : {}) } : {}),
          ...(error?.code ? { error: error.code } : {}),
          ...(res.writableFinished ? {} : { clientClosed: true }),
        },
        'request',
      );
    });
    next();
  };
}
