/** CligateError -> Gemini's `{error:{code,message,status}}` (google.rpc.Status names). */
import type { CligateError, ErrorKind } from '../../core/errors.js';

const STATUS: Record<ErrorKind, string> = {
  bad_request: 'INVALID_ARGUMENT',
  payload_too_large: 'INVALID_ARGUMENT',
  not_found: 'NOT_FOUND',
  unauthorized: 'UNAUTHENTICATED',
  forbidden: 'PERMISSION_DENIED',
  rate_limited: 'RESOURCE_EXHAUSTED',
  overloaded: 'UNAVAILABLE',
  unavailable: 'UNAVAILABLE',
  not_implemented: 'UNIMPLEMENTED',
  timeout: 'DEADLINE_EXCEEDED',
  upstream: 'INTERNAL',
  internal: 'INTERNAL',
};

export function geminiErrorBody(err: CligateError) {
  return { error: { code: err.status, message: err.message, status: STATUS[err.kind] } };
}
