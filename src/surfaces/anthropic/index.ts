/** The Anthropic Messages dialect. */
import type { Surface } from '../types.js';
import { decodeCountTokens, decodeMessages } from './decode.js';
import { AnthropicStreamEncoder, encodeMessage } from './encode.js';
import { anthropicErrorBody } from './errors.js';

export const anthropicSurface: Surface = {
  dialect: 'anthropic',
  decode: decodeMessages,
  streamEncoder: (req, id) => new AnthropicStreamEncoder(req, id),
  encodeResponse: encodeMessage,
  errorBody: anthropicErrorBody,
  decodeCountTokens: (body) => decodeCountTokens(body),
  encodeCountTokens: (tokens) => ({ input_tokens: tokens }),
};
