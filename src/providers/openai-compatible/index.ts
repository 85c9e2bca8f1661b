/**
 * A generic OpenAI-compatible upstream (a local model server, another gateway): base URL,
 * key and model list from config. Requests go out as chat completions, streamed when the
 * client streams: each upstream chunk becomes StreamParts the moment it arrives, so streams
 * pass through with nothing held back but tool-call arguments (sent whole); a client that
 * does not stream gets the upstream's one JSON answer. Models are served bare and as
 * "openai-compatible/<model>".
 */
import { createParser } from 'eventsource-parser';
import type { ModelInfo, Provider, ProviderContext } from '../../core/provider.js';
import type { ChatRequest } from '../../core/request.js';
import type { StreamPart } from '../../core/stream.js';
import { Unavailable, UpstreamError } from '../../core/errors.js';
import { requestVia, upstreamFailure } from '../../accounts/http.js';
import { chatCompletionsBody } from './request.js';
import { ChatCompletionsTranslator, type Chunk } from './translate.js';

export const PROVIDER_ID = 'openai-compatible';

export interface OpenAICompatibleOptions {
  /** e.g. http://127.0.0.1:11434/v1 ("" = off) */
  baseUrl: string;
  apiKey: string;
  models: readonly string[];
  /** outbound proxy ("" = direct) */
  proxy?: string;
}

export function createOpenAICompatibleProvider(opts: OpenAICompatibleOptions): Provider {
  const url = `${opts.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  // parsed once, not per request (undici takes a URL object as it is); one that does not
  // parse stays a string, and fails per request as before
  const target = URL.canParse(url) ? new URL(url) : url;
  const served = new Set(opts.models);

  async function* stream(req: ChatRequest, ctx: ProviderContext): AsyncGenerator<StreamPart> {
    if (!opts.baseUrl) throw new Unavailable('No OpenAI-compatible upstream is configured (OPENAI_COMPATIBLE_BASE_URL).', { code: 'provider_not_configured' });
    let res;
    try {
      res = await requestVia(opts.proxy || undefined, target, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}) },
        body: JSON.stringify(chatCompletionsBody(req, req.model)),
        signal: ctx.signal,
      });
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      throw new UpstreamError(`The OpenAI-compatible upstream at ${opts.baseUrl} cannot be reached: ${((err as Error).cause as Error | undefined)?.message ?? (err as Error).message}`, { code: 'upstream_unreachable' });
    }
    if (res.statusCode < 200 || res.statusCode >= 300) throw await upstreamFailure(res, 'The OpenAI-compatible upstream', 'chat/completions');
    const x = new ChatCompletionsTranslator();
    if (!req.stream) {
      let completion: unknown;
      try {
        completion = await res.body.json();
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        throw new UpstreamError(`The OpenAI-compatible upstream sent an unreadable answer: ${(err as Error).message}`);
      }
      yield* x.completion(completion as Chunk);
      return;
    }
    const ready: StreamPart[] = [];
    let bad: Error | undefined;
    const parser = createParser({
      onEvent: (ev) => {
        try {
          ready.push(...x.chunk(ev.data));
        } catch (err) {
          bad ??= err as Error;
        }
      },
    });
    const decoder = new TextDecoder();
    for await (const bytes of res.body as AsyncIterable<Uint8Array>) {
      parser.feed(decoder.decode(bytes, { stream: true }));
      if (bad) throw bad;
      // drained per network chunk: nothing waits for the next one
      if (ready.length) yield* ready.splice(0);
    }
    yield* x.end();
  }

  return {
    id: PROVIDER_ID,
    nativeTools: true,
    structuredOutput: true,
    models: (): ModelInfo[] => (opts.baseUrl ? opts.models.map((id) => ({ id, provider: PROVIDER_ID })) : []),
    handles: (model) => served.has(model),
    stream,
    status: async () => ({ id: PROVIDER_ID, available: opts.baseUrl !== '' && served.size > 0, detail: { baseUrl: opts.baseUrl, models: [...served] } }),
  };
}
