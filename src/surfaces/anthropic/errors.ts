/** CligateError -> Anthropic's `{type:"error",error:{type,message}}`. */
import type { CligateError, ErrorKind } from '../../core/errors.js';

const TYPE: Record<ErrorKind, string> = {
  bad_request: 'invalid_request_error',
  payload_too_large: 'request_too_large',
  not_found: 'not_found_error',
  unauthorized: 'authentication_error',
  forbidden: 'permission_error',
  rate_limited: 'rate_limit_error',
  overloaded: 'overloaded_error',
  unavailable: 'overloaded_error',
  not_implemented: 'not_found_error',
  timeout: 'timeout_error',
  upstream: 'api_error',
  internal: 'api_error',
};

export function anthropicErrorBody(err: CligateError) {
  return { type: 'error', error: { type: TYPE[err.kind], message: err.message } };
}
