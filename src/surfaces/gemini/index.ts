/**
 * The Gemini dialect, on two routes: the public API (`/v1beta/models/{model}:method`)
 * and the backend-proxy endpoints a Gemini CLI calls (`/api/ai/*`).
 */
import type { Surface } from '../types.js';
import { decodeBackendProxy, decodeBackendProxyCount, decodeCountTokens, decodeGenerateContent } from './decode.js';
import { GeminiStreamEncoder, encodeGenerateContent } from './encode.js';
import { geminiErrorBody } from './errors.js';

const countResponse = (tokens: number) => ({ totalTokens: tokens });

export const geminiSurface: Surface = {
  dialect: 'gemini',
  decode: decodeGenerateContent,
  // `alt=sse` streams SSE; without it Gemini streams one JSON array
  streamEncoder: (req, id, info) => new GeminiStreamEncoder(req, id, info.query.alt === 'sse' ? 'sse' : 'array'),
  encodeResponse: encodeGenerateContent,
  errorBody: geminiErrorBody,
  decodeCountTokens: decodeCountTokens,
  encodeCountTokens: countResponse,
};

/** stream or not is the route's choice: /api/ai/generate-stream vs /api/ai/generate */
export const backendProxySurface: Surface = {
  dialect: 'gemini-backend-proxy',
  decode: (body, info) => decodeBackendProxy(body, info, info.params.method === 'generate-stream'),
  streamEncoder: (req, id) => new GeminiStreamEncoder(req, id, 'sse'),
  encodeResponse: encodeGenerateContent,
  errorBody: geminiErrorBody,
  decodeCountTokens: (body) => decodeBackendProxyCount(body),
  encodeCountTokens: countResponse,
};
