/** Request id (X-Request-ID in, echoed out) and one log line per request. */
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../log.js';

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestLog(log: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const incoming = req.headers['x-request-id'];
    const id = typeof incoming === 'string' && SAFE_ID.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = id;
    res.set('X-Request-ID', id);
    const started = process.hrtime.bigint();
    res.on('close', () => {
      const chat = res.locals.chat as { model?: string; provider?: string; stream?: boolean } | undefined;
      const usage = res.locals.usage as { inputTokens?: number; outputTokens?: number; cacheReadTokens?: number } | undefined;
      const dialect = (res.locals.surface as { dialect?: string } | undefined)?.dialect;
      const error = (res.locals.streamError ?? res.locals.error) as { code?: string } | undefined;
      const account = (res.locals.exchange as { account?: string } | undefined)?.account;
      log.info(
        {
          requestId: id,
          method: req.method,
          path: req.originalUrl.split('?')[0],
          status: res.statusCode,
          durationMs: Number((process.hrtime.bigint() - started) / 1_000_000n),
          ...(dialect && chat ? { dialect } : {}),
          ...(chat ?? {}),
          ...(account ? { account } : {}),
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
