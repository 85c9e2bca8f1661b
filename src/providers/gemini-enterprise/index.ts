/**
 * Gemini Enterprise business accounts behind the account pool. Per account: a JWT
 * (from getoxsrf, cached 240 s of its 300 s, one refresh at a time) and one chat
 * session, created once and reused. Each request sends the conversation rendered as
 * one query (the session's own memory is not relied on: several conversations share
 * it), images of the new turn as inlineData; answer text and thoughts stream back;
 * generated images are saved to the image cache and linked at the end of the answer.
 */
import { randomBytes } from 'node:crypto';
import type { ModelInfo, Provider, ProviderContext } from '../../core/provider.js';
import type { ChatRequest } from '../../core/request.js';
import type { StreamPart } from '../../core/stream.js';
import { Unauthorized, UpstreamError } from '../../core/errors.js';
import type { AccountPool } from '../../accounts/pool.js';
import type { Account } from '../../accounts/types.js';
import type { ImageCache } from '../../features/image-cache.js';
import { TokenCache } from '../../accounts/token-cache.js';
import { renderTranscript } from '../../features/transcript.js';
import { countTextTokens, estimateInputTokens } from '../../features/token-estimate.js';
import { createSession, downloadFile, fetchJwt, fileSession, streamAssist, streamAssistBody, type Endpoints } from './client.js';
import { JsonArrayReader } from './json-array.js';
import { translateElement, type GeneratedRef } from './translate.js';
import type { EnterpriseCredentials, QueryPart, StreamAssistElement } from './types.js';

export const PROVIDER_ID = 'gemini-enterprise';
export const DEFAULT_MODELS = ['gemini-enterprise', 'gemini-image', 'gemini-video'];
const JWT_REUSE_MS = 240_000;

export interface GeminiEnterpriseOptions {
  pool: AccountPool;
  endpoints: Endpoints;
  images: ImageCache;
  /** base of /image/<file> links; "" = the origin the request came to */
  imageBaseUrl: string;
  models(): string[];
}

/** what each model asks the widget to do */
function toolsSpec(model: string): Record<string, unknown> {
  if (model === 'gemini-image') return { imageGenerationSpec: {} };
  if (model === 'gemini-video') return { videoGenerationSpec: {} };
  return { webGroundingSpec: {}, toolRegistry: 'default_tool_registry', imageGenerationSpec: {}, videoGenerationSpec: {} };
}

function credentialsOf(a: Account): EnterpriseCredentials {
  const c = a.credentials;
  const missing = ['team_id', 'secure_c_ses', 'csesidx'].filter((k) => !c[k]);
  if (missing.length) throw new Unauthorized(`Gemini Enterprise account "${a.id}" lacks ${missing.join(', ')}.`, { code: 'account_incomplete' });
  return c as unknown as EnterpriseCredentials;
}

/** the whole conversation as one query: system instructions first, then the transcript */
function queryParts(req: ChatRequest): QueryPart[] {
  const text = renderTranscript(req);
  const parts: QueryPart[] = [{ text: req.system ? `System instructions:\n${req.system}\n\n${text}` : text }];
  for (const m of req.messages) for (const p of m.content) if (p.type === 'image' && p.data) parts.push({ inlineData: { mimeType: p.mediaType ?? 'image/png', data: p.data } });
  return parts;
}

export function createGeminiEnterpriseProvider(opts: GeminiEnterpriseOptions): Provider {
  // a JWT lives 300 s; it is reused for 240 s
  const jwts = new TokenCache<{ jwt: string; expiresAt: number }>(opts.pool, 0);
  const sessions = new Map<string, string>();

  async function jwtFor(account: Account, creds: EnterpriseCredentials, signal: AbortSignal, force = false): Promise<string> {
    const t = await jwts.get(account, async () => ({ jwt: await fetchJwt(opts.endpoints, creds, opts.pool.proxyFor(account), signal), expiresAt: Date.now() + JWT_REUSE_MS }), { force });
    return t.jwt;
  }

  async function sessionFor(account: Account, creds: EnterpriseCredentials, jwt: string, signal: AbortSignal): Promise<string> {
    const known = sessions.get(account.id);
    if (known) return known;
    const name = await createSession(opts.endpoints, jwt, creds, opts.pool.proxyFor(account), randomBytes(6).toString('hex'), signal);
    sessions.set(account.id, name);
    return name;
  }

  async function saveImage(ref: GeneratedRef, account: Account, creds: EnterpriseCredentials, jwt: string, session: string, signal: AbortSignal): Promise<string> {
    let data: Buffer;
    if (ref.kind === 'bytes') data = Buffer.from(ref.data, 'base64');
    else {
      const proxy = opts.pool.proxyFor(account);
      const where = await fileSession(opts.endpoints, jwt, creds, proxy, session, ref.fileId, signal);
      data = await downloadFile(opts.endpoints, jwt, creds, proxy, where, ref.fileId, signal);
    }
    return opts.images.save(data, ref.mimeType);
  }

  async function* attempt(req: ChatRequest, ctx: ProviderContext, account: Account): AsyncGenerator<StreamPart> {
    const creds = credentialsOf(account);
    const jwt = await jwtFor(account, creds, ctx.signal);
    let session = await sessionFor(account, creds, jwt, ctx.signal);
    const res = await streamAssist(opts.endpoints, jwt, creds, opts.pool.proxyFor(account), streamAssistBody(creds, session, queryParts(req), toolsSpec(req.model)), ctx.signal).catch((err: unknown) => {
      // a session the service forgot is made anew next time
      if (err instanceof UpstreamError && /HTTP 404/.test(err.message)) sessions.delete(account.id);
      throw err;
    });
    const reader = new JsonArrayReader();
    const decoder = new TextDecoder();
    const images: GeneratedRef[] = [];
    let answer = '';
    for await (const chunk of res.body ?? []) {
      for (const el of reader.push(decoder.decode(chunk, { stream: true }))) {
        const r = translateElement(el as StreamAssistElement);
        if (r.session) session = r.session;
        images.push(...r.images);
        for (const p of r.parts) {
          if (p.type === 'text-delta') answer += p.text;
          yield p;
        }
      }
    }
    const base = opts.imageBaseUrl || ctx.publicUrl || '';
    for (const [i, ref] of images.entries()) {
      const file = await saveImage(ref, account, creds, jwt, session, ctx.signal);
      const link = `${answer || i ? '\n\n' : ''}![Generated image ${i + 1}](${base}/image/${file})`;
      answer += link;
      yield { type: 'text-delta', text: link };
    }
    yield { type: 'usage', usage: { inputTokens: estimateInputTokens(req), outputTokens: countTextTokens(answer) } };
    yield { type: 'finish', reason: 'stop' };
  }

  return {
    id: PROVIDER_ID,
    // listed only when an account could serve them; the names still route here (and get a clear 503)
    models: (): ModelInfo[] => (opts.pool.accounts().some((a) => a.enabled) ? opts.models().map((id) => ({ id, provider: PROVIDER_ID })) : []),
    handles: (model) => opts.models().includes(model),
    pool: opts.pool,
    async testAccount(account) {
      await jwtFor(account as Account, credentialsOf(account as Account), AbortSignal.timeout(30_000), true);
      return 'JWT issued';
    },
    stream: (req, ctx) => opts.pool.stream(ctx, req.sessionKey, (account, actx) => attempt(req, actx, account)),
    status: async () => ({
      id: PROVIDER_ID,
      available: opts.pool.usable().length > 0,
      detail: { accounts: opts.pool.status() },
    }),
  };
}
