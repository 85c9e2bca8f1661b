/** Token counting for any surface that has an endpoint for it: decode -> estimate -> encode. */
import type { Request, Response, NextFunction } from 'express';
import type { Surface } from '../surfaces/types.js';
import { estimateInputTokens } from '../features/token-estimate.js';
import { requestInfo } from './chat-handler.js';

export function countTokensHandler(surface: Surface) {
  const decode = surface.decodeCountTokens;
  const encode = surface.encodeCountTokens;
  if (!decode || !encode) throw new Error(`surface ${surface.dialect} has no token counting`);
  return (req: Request, res: Response, next: NextFunction): void => {
    try {
      res.json(encode(estimateInputTokens(decode(req.body, requestInfo(req)))));
    } catch (err) {
      next(err);
    }
  };
}
