/**
 * Drives one chat request through any surface and any provider:
 * decode -> route -> provider.stream -> encode (JSON or SSE).
 *
 * SSE headers are sent at the first content part or the first keepalive tick,
 * whichever comes first, so an error before any content (queue full, CLI not
 * logged in, unknown model) still gets its real HTTP status, while a slow start
 * is covered by `: keepalive` comments from the first tick on.
 */
import { publicOrigin, type ApiRequest, type ApiResponse } from './http-types.js';
import { randomUUID } from 'node:crypto';
import { keyMatches } from './auth.js';
import type { Provider, ProviderContext, RequestAccount } from '../core/provider.js';
import type { StreamPart } from '../core/stream.js';
import { collect } from '../core/stream.js';
import { BadRequest, CligateError, Unauthorized, toCligateError } from '../core/errors.js';
import type { ChatRequest } from '../core/request.js';
import type { Router } from '../routing/router.js';
import type { RequestInfo, Surface } from '../surfaces/types.js';
import type { Logger } from '../log.js';
import type { InFlight } from './inflight.js';
import { sendError, sendJson } from './errors.js';
import { planFeatures, type FeatureOptions } from '../features/pipeline.js';
import { Exchange } from '../usage/exchange.js';
import type { Route } from '../routing/router.js';
import { firstToStart, type Attempt } from '../routing/fallback.js';
import { FrameWriter } from './frame-writer.js';
import { planWithin, scopeTargets } from '../keys/scope.js';
import { keyOf, type Caller } from '../keys/ring.js';

/** `kiro/claude-sonnet-4.5;status=429;code=rate_limit_exceeded, claude-cli/claude-sonnet-4-5`: each target tried, in order */
export function formatAttempts(attempts: readonly Attempt[]): string {
  return attempts.map((a) => (a.status ? `${a.target};status=${a.status};code=${a.code}` : a.target)).join(', ');
}

export interface ChatHandlerDeps {
  router: Router;
  inflight: InFlight;
  keepaliveMs: number;
  features: FeatureOptions;
  /** stateless gateway mode: per-request accounts need this key ("" = off) */
  internalApiKey: string;
  log: Logger;
  /** answer characters kept for the history viewer (0 = history off) */
  historyChars: number;
}

const OPENS_STREAM = new Set<StreamPart['type']>(['text-delta', 'reasoning-delta', 'tool-call', 'usage', 'finish']);

export class ClientClosed extends CligateError {
  constructor() {
    super('bad_request', 499, 'The client closed the connection.', { code: 'client_closed_request' });
  }
}

/** a per-request account (stateless gateway mode), only with the internal key */
function requestAccount(provider: Provider, req: ApiRequest, internalKey: string): RequestAccount | undefined {
  const account = provider.accountFromHeaders?.(req.headers);
  if (!account) return undefined;
  const given = String(req.headers['x-internal-api-key'] ?? '');
  const ok = internalKey !== '' && keyMatches(given, internalKey);
  if (!ok) {
    throw new Unauthorized(
      internalKey ? 'Per-request accounts need a valid X-Internal-Api-Key.' : 'Per-request accounts are off: set INTERNAL_API_KEY to use stateless gateway mode.',
      { code: 'invalid_internal_api_key' },
    );
  }
  return account;
}

/**
 * A hosted tool (Responses `web_search`, …) is run by the provider or not at all: only the
 * targets that run every hosted tool asked for; none, and the request is refused, naming the tool.
 */
function servingHostedTools(chat: ChatRequest, targets: Route[]): Route[] {
  const hosted = chat.hostedTools ?? [];
  if (!hosted.length) return targets;
  const able = targets.filter((r) => hosted.every((t) => r.provider.hostedTools?.includes(t)));
  if (able.length) return able;
  const provider = targets[0]!.provider;
  const missing = hosted.find((t) => !provider.hostedTools?.includes(t))!;
  throw new BadRequest(
    `Tool type '${missing}' is a hosted tool that provider '${provider.id}' cannot run. Remove it from tools${missing === 'web_search' ? ' (Codex: web_search = "disabled" in config.toml)' : ''}, or use a model served by a provider that runs it.`,
    { param: 'tools', code: 'unsupported_tool' },
  );
}

export function requestInfo(req: ApiRequest): RequestInfo {
  return { headers: req.headers, params: req.params as Record<string, string>, query: req.query as Record<string, unknown> };
}

export function chatHandler(surface: Surface, deps: ChatHandlerDeps) {
  return async (req: ApiRequest, res: ApiResponse): Promise<void> => {
    const ctl = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) ctl.abort(new ClientClosed());
    };
    res.on('close', onClose);
    const requestId = String(res.locals.requestId ?? randomUUID());
    // made on first use: most requests never log past the request line
    let child: Logger | undefined;
    const log = () => (child ??= deps.log.child({ requestId, dialect: surface.dialect }));
    // how the answer ends when the server ends it (a drain's grace is over): at once, in its
    // dialect, before the abort reaches the provider; a stream replaces it once it can open
    let endNow = (e: CligateError) => {
      if (!res.headersSent) res.setHeader('Connection', 'close');
      sendError(res, surface, e, log());
    };
    const done = deps.inflight.add(ctl, (reason) => {
      if (!res.writableEnded) endNow(toCligateError(reason));
    });
    try {
      const info = requestInfo(req);
      const chat = await surface.decode(req.body, info);
      if (chat.ignored) log().debug({ ignored: chat.ignored }, 'fields accepted and not acted on');
      // stateless gateway mode: a request bringing its own account makes that pool a candidate
      const brought = deps.router.all().filter((p) => p.accountFromHeaders?.(req.headers) !== undefined);
      const key = keyOf(res.locals.caller as Caller | undefined);
      const plan = planWithin(key, chat.model, () => deps.router.plan(chat.model, brought.length ? (p) => brought.includes(p) : undefined));
      const exchange = new Exchange(chat, deps.historyChars);
      res.locals.exchange = exchange;
      const served = { model: chat.model, provider: plan.targets[0]!.provider.id, stream: chat.stream };
      res.locals.chat = served;
      // the targets that could not start, then the one that serves (x-cligate-attempts, the request log)
      const attempts: Attempt[] = [];
      res.locals.attempts = attempts;
      // only image links need it, and it weighs the trusted proxies
      const publicUrl = () => publicOrigin(req);
      // one target's request: its features (native or emulated tools, …), its account, its provider
      const start = async (route: Route): Promise<AsyncIterable<StreamPart>> => {
        const provider = route.provider;
        // the provider gets the routed name; encoders keep the name the client asked for. Reasoning
        // is on with a "-thinking" name, or when the dialect asked for it and the provider has it
        const thinking = route.thinking || (chat.thinking === true && provider.supportsThinking === true);
        const routed = { ...chat, model: route.model, progress: route.progress, thinking };
        const account = requestAccount(provider, req, deps.internalApiKey);
        const features = await planFeatures(routed, provider, deps.features, ctl.signal);
        if (features.decided.xml?.xml || features.decided.emulatedTools) log().debug(features.decided, 'features');
        const ctx: ProviderContext = {
          signal: ctl.signal,
          requestId,
          get log() {
            return log();
          },
          get publicUrl() {
            return publicUrl();
          },
          ...(account ? { account } : {}),
          onAccount: (id: string) => (exchange.account = id),
        };
        return features.transform(provider.stream(features.request, ctx));
      };
      let opened = false;
      // a client key limited to some models: only the targets it may use (403 when none)
      const targets = servingHostedTools(chat, scopeTargets(key, chat.model, plan.targets));
      const run = () =>
        firstToStart(targets, start, {
          mayFallBack: () => !opened && !res.headersSent,
          onTry: (route) => {
            served.provider = route.provider.id;
            if (!res.headersSent) {
              res.setHeader('x-cligate-provider', route.provider.id);
              if (attempts.length) res.setHeader('x-cligate-attempts', formatAttempts([...attempts, { target: route.target }]));
            }
          },
          onFail: (route, err, next) => {
            // a lone target's failure is the answer, not a fallback
            if (!next && !attempts.length) return;
            attempts.push({ target: route.target, status: err.status, code: err.code });
            if (!res.headersSent) res.setHeader('x-cligate-attempts', formatAttempts(attempts));
            if (!next) return;
            exchange.account = undefined;
            log().debug({ target: route.target, status: err.status, code: err.code, err: err.message }, 'target could not start the answer; trying the next');
          },
        });
      // surfaces prefix it in their own style (chatcmpl-…, msg_…)
      const id = requestId.replace(/[^A-Za-z0-9]/g, '');

      if (!chat.stream) {
        const result = await collect(run(), exchange.see);
        res.locals.usage = result.usage;
        const body = await surface.encodeResponse(chat, id, result);
        if (!ctl.signal.aborted) sendJson(res, 200, body);
        return;
      }

      const encoder = surface.streamEncoder(chat, id, info);
      const frames = new FrameWriter(res);
      /** an open stream ends with its dialect's error frames, never a bare cut */
      const failOpenStream = (e: CligateError, why: string) => {
        res.locals.streamError = e;
        log().warn({ err: e.message, code: e.code }, why);
        frames.write(encoder.error(e));
        frames.end();
      };
      endNow = (e) => {
        if (opened) return failOpenStream(e, 'stream ended by the server');
        res.setHeader('Connection', 'close');
        sendError(res, surface, e, log());
      };
      const open = () => {
        if (opened || res.writableEnded) return;
        opened = true;
        res.statusCode = 200;
        res.setHeader('Content-Type', encoder.contentType);
        res.setHeader('Cache-Control', 'no-cache, no-transform');
        res.setHeader('Connection', 'keep-alive');
        res.setHeader('X-Accel-Buffering', 'no');
        // the headers leave with the frames written in this same turn (or alone at its end)
        frames.flushSoon();
        frames.write(encoder.open());
      };
      const keepalive = setInterval(() => {
        open();
        frames.write([encoder.keepalive()]);
      }, deps.keepaliveMs);
      try {
        for await (const part of run()) {
          exchange.see(part);
          if (part.type === 'usage') res.locals.usage = part.usage;
          if (OPENS_STREAM.has(part.type)) open();
          frames.write(encoder.part(part));
        }
        if (ctl.signal.aborted) return;
        open();
        frames.write(await encoder.end());
        frames.end();
      } catch (err) {
        if (res.writableEnded) return; // already ended by the server (endNow)
        if (!opened) throw err;
        failOpenStream(toCligateError(err), 'stream failed after it opened');
      } finally {
        clearInterval(keepalive);
      }
    } catch (err) {
      if (ctl.signal.aborted && (ctl.signal.reason instanceof ClientClosed || res.writableEnded)) return;
      sendError(res, surface, toCligateError(err), log());
    } finally {
      res.off('close', onClose);
      // in flight until the last bytes have left: a drain closes the sockets only after that
      if (res.writableEnded && !res.writableFinished && !res.destroyed) {
        res.once('finish', done);
        res.once('close', done);
      } else done();
    }
  };
}
