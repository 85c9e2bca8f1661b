/**
 * The OpenAI Responses dialect (POST /v1/responses). It keeps conversation state
 * (previous_response_id) in its own store; errors have OpenAI's shape. Made per app, since
 * the store is.
 */
import type { ChatRequest } from '../../core/request.js';
import type { Surface } from '../types.js';
import { openaiErrorBody } from '../openai/errors.js';
import { decodeResponses, type ResponsesContext } from './decode.js';
import { encodeResponse, ResponseBuilder, ResponsesStreamEncoder } from './encode.js';
import type { ResponseStore } from './store.js';

export function responsesSurface(store: ResponseStore): Surface {
  // what decode learnt of a request, for its encoder (the same ChatRequest object reaches both)
  const contexts = new WeakMap<ChatRequest, ResponsesContext>();
  const builder = (req: ChatRequest, id: string) => {
    const ctx = contexts.get(req);
    if (!ctx) throw new Error('responses: request was not decoded by this surface');
    return new ResponseBuilder(req, ctx, id, store);
  };
  return {
    dialect: 'responses',
    decode: (body, info) => decodeResponses(body, info, store, contexts),
    streamEncoder: (req, id) => new ResponsesStreamEncoder(builder(req, id)),
    encodeResponse: (req, id, res) => encodeResponse(builder(req, id), res),
    errorBody: openaiErrorBody,
  };
}

export { responseStore, type ResponseStore } from './store.js';
