/**
 * Typed errors with their HTTP meaning. Surfaces render them in their own error
 * shape; `kind` is the dialect-neutral category each surface maps to its type/code.
 */

export type ErrorKind =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'payload_too_large'
  | 'rate_limited'
  | 'overloaded'
  | 'timeout'
  | 'upstream'
  | 'unavailable'
  | 'not_implemented'
  | 'internal';

export class CligateError extends Error {
  readonly kind: ErrorKind;
  readonly status: number;
  /** machine-readable code, e.g. "model_not_found", "queue_full" */
  readonly code: string;
  /** the offending request field, when one is to blame */
  readonly param?: string;
  /** seconds the client should wait before retrying */
  readonly retryAfter?: number;

  constructor(
    kind: ErrorKind,
    status: number,
    message: string,
    opts: { code?: string; param?: string; retryAfter?: number; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.kind = kind;
    this.status = status;
    this.code = opts.code ?? kind;
    if (opts.param !== undefined) this.param = opts.param;
    if (opts.retryAfter !== undefined) this.retryAfter = opts.retryAfter;
  }
}

type Opts = { code?: string; param?: string; cause?: unknown };

export class BadRequest extends CligateError {
  constructor(message: string, opts: Opts = {}) {
    super('bad_request', 400, message, { code: 'invalid_request', ...opts });
  }
}
export class PayloadTooLarge extends CligateError {
  constructor(message: string, opts: Opts = {}) {
    super('payload_too_large', 413, message, { code: 'payload_too_large', ...opts });
  }
}
export class Unauthorized extends CligateError {
  constructor(message: string, opts: Opts = {}) {
    super('unauthorized', 401, message, { code: 'invalid_api_key', ...opts });
  }
}
export class Forbidden extends CligateError {
  constructor(message: string, opts: Opts = {}) {
    super('forbidden', 403, message, opts);
  }
}

export class NotFound extends CligateError {
  constructor(message: string, opts: Opts = {}) {
    super('not_found', 404, message, { code: 'not_found', ...opts });
  }
}
export class RateLimited extends CligateError {
  constructor(message: string, opts: Opts & { retryAfter?: number } = {}) {
    super('rate_limited', 429, message, { code: 'rate_limit_exceeded', ...opts });
  }
}
export class Overloaded extends CligateError {
  constructor(message: string, opts: Opts & { retryAfter?: number } = {}) {
    super('overloaded', 503, message, { code: 'overloaded', ...opts });
  }
}
export class Timeout extends CligateError {
  constructor(message: string, opts: Opts = {}) {
    super('timeout', 504, message, { code: 'timeout', ...opts });
  }
}
export class UpstreamError extends CligateError {
  constructor(message: string, opts: Opts & { status?: number } = {}) {
    super('upstream', opts.status ?? 502, message, { code: 'upstream_error', ...opts });
  }
}
export class NotImplemented extends CligateError {
  constructor(message: string, opts: Opts = {}) {
    super('not_implemented', 501, message, { code: 'not_implemented', ...opts });
  }
}
export class Unavailable extends CligateError {
  constructor(message: string, opts: Opts = {}) {
    super('unavailable', 503, message, { code: 'unavailable', ...opts });
  }
}

/** Anything thrown becomes a CligateError; unknown errors are internal 500s. */
export function toCligateError(err: unknown): CligateError {
  if (err instanceof CligateError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new CligateError('internal', 500, `Internal error: ${message}`, { code: 'internal_error', cause: err });
}
