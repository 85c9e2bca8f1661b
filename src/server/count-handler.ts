/** Token counting for any surface that has an endpoint for it: decode -> estimate -> encode. */
import type { ApiRequest, ApiResponse, Next } from './http-types.js';
import type { Surface } from '../surfaces/types.js';
import { estimateInputTokens } from '../features/token-estimate.js';
import { requestInfo } from './chat-handler.js';
import { sendJson } from './errors.js';

export function countTokensHandler(surface: Surface) {
  const decode = surface.decodeCountTokens;
  const encode = surface.encodeCountTokens;
  if (!decode || !encode) throw new Error(`surface ${surface.dialect} has no token counting`);
  return (req: ApiRequest, res: ApiResponse, next: Next): void => {
    try {
      sendJson(res, 200, encode(estimateInputTokens(decode(req.body, requestInfo(req)))));
    } catch (err) {
      next(err);
    }
  };
}
