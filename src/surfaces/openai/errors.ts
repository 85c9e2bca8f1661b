/** CligateError -> OpenAI's `{error:{message,type,param,code}}`. */
import type { CligateError, ErrorKind } from '../../core/errors.js';

const TYPE: Record<ErrorKind, string> = {
  bad_request: 'invalid_request_error',
  payload_too_large: 'invalid_request_error',
  not_found: 'invalid_request_error',
  unauthorized: 'authentication_error',
  forbidden: 'permission_error',
  rate_limited: 'rate_limit_exceeded',
  overloaded: 'server_overloaded',
  unavailable: 'service_unavailable',
  not_implemented: 'not_implemented_error',
  timeout: 'timeout_error',
  upstream: 'api_error',
  internal: 'server_error',
};

export function openaiErrorBody(err: CligateError) {
  return {
    error: {
      message: err.message,
      type: TYPE[err.kind],
      param: err.param ?? null,
      code: err.code,
      ...(err.retryAfter !== undefined ? { retry_after: err.retryAfter } : {}),
    },
  };
}
