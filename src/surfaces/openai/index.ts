/** The OpenAI chat-completions dialect. */
import type { Surface } from '../types.js';
import { decodeChatCompletion } from './decode.js';
import { OpenAIStreamEncoder, encodeChatCompletion } from './encode.js';
import { openaiErrorBody } from './errors.js';

export const openaiSurface: Surface = {
  dialect: 'openai',
  decode: (body, info) => decodeChatCompletion(body, info.headers),
  streamEncoder: (req, id) => new OpenAIStreamEncoder(req, id),
  encodeResponse: encodeChatCompletion,
  errorBody: openaiErrorBody,
};

export { openaiErrorBody, decodeChatCompletion };
