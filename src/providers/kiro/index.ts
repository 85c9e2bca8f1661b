/**
 * Kiro (Amazon Q Developer) accounts behind the account pool: weighted selection, up
 * to 4 attempts, tokens refreshed on demand and in the background (every
 * KIRO_REFRESH_INTERVAL minutes, any token that expires within 5 minutes), one refresh
 * per account at a time, rotated refresh tokens written back to the store. Native tool
 * calls, images and thinking. In stateless gateway mode the account arrives in X-Kiro-*
 * headers (checked against INTERNAL_API_KEY by the server) and nothing is stored.
 */
import type { ModelInfo, Provider, ProviderContext } from '../../core/provider.js';
import type { ChatRequest } from '../../core/request.js';
import type { StreamPart } from '../../core/stream.js';
import type { AccountPool } from '../../accounts/pool.js';
import type { AccountStore } from '../../accounts/store.js';
import type { Account } from '../../accounts/types.js';
import { countTextTokens, estimateInputTokens } from '../../features/token-estimate.js';
import { Unauthorized } from '../../core/errors.js';
import { TokenCache } from '../../accounts/token-cache.js';
import { buildRequest } from './request.js';
import { generate, refreshToken, usageLimits, type KiroEndpoints, type Token, type UsageLimits } from './client.js';
import { CONTEXT_WINDOW, KiroTranslator, kiroEvents } from './events.js';
import { kiroModelId, KIRO_MODEL_IDS } from './models.js';
import type { KiroCredentials } from './types.js';

export const PROVIDER_ID = 'kiro';
const EXPIRY_MARGIN_MS = 5 * 60_000;

export interface KiroOptions {
  pool: AccountPool;
  store: AccountStore;
  endpoints: KiroEndpoints;
  models(): string[];
  refreshIntervalMs: number;
}

export interface KiroProvider extends Provider {
  /** the background pass: refresh every enabled account whose token expires within 5 minutes */
  refreshDue(): Promise<void>;
  /** cached token state, for status and tests */
  tokenOf(accountId: string): Token | undefined;
}

function credentialsOf(a: Account): KiroCredentials {
  if (!a.credentials.refresh_token) throw new Unauthorized(`Kiro account "${a.id}" has no refresh_token.`, { code: 'account_incomplete' });
  return a.credentials as unknown as KiroCredentials;
}

const HEADER = 'x-kiro-';

/** an account described by X-Kiro-* headers (stateless gateway mode), or undefined */
export function accountFromHeaders(headers: Record<string, string | string[] | undefined>): Account | undefined {
  const h = (name: string) => {
    const v = headers[`${HEADER}${name}`];
    return typeof v === 'string' && v ? v : undefined;
  };
  const refresh = h('refresh-token');
  if (!refresh) return undefined;
  const credentials: Record<string, string> = { refresh_token: refresh };
  for (const [header, key] of [['region', 'region'], ['auth-method', 'auth_method'], ['client-id', 'client_id'], ['client-secret', 'client_secret'], ['profile-arn', 'profile_arn']] as const) {
    const v = h(header);
    if (v) credentials[key] = v;
  }
  // one id per refresh token, so concurrent requests share one refresh and one cached token
  const id = `header:${Buffer.from(refresh).toString('base64url').slice(-16)}`;
  return { id, provider: PROVIDER_ID, enabled: true, weight: 100, credentials };
}

export function createKiroProvider(opts: KiroOptions): KiroProvider {
  const tokens = new TokenCache<Token>(opts.pool, 60_000);
  const limits = new Map<string, { at: number; limits: UsageLimits[] }>();

  async function doRefresh(account: Account): Promise<Token> {
    const creds = credentialsOf(account);
    const token = await refreshToken(opts.endpoints, creds, opts.pool.proxyFor(account));
    // a rotated refresh token replaces the old one (stored accounts only; header accounts are the caller's)
    const stored = opts.store.get(account.id);
    if (stored && (token.refreshToken || (token.profileArn && !stored.credentials.profile_arn))) {
      await opts.store.update(account.id, {
        credentials: { ...stored.credentials, ...(token.refreshToken ? { refresh_token: token.refreshToken } : {}), ...(token.profileArn && !stored.credentials.profile_arn ? { profile_arn: token.profileArn } : {}) },
      });
    }
    return token;
  }

  /** the stored account's current refresh token is used (it may have rotated) */
  const tokenFor = (account: Account, force = false) => tokens.get(account, () => doRefresh(opts.store.get(account.id) ?? account), { force });

  async function* attempt(req: ChatRequest, ctx: ProviderContext, account: Account): AsyncGenerator<StreamPart> {
    const creds = credentialsOf(account);
    const region = creds.region || 'us-east-1';
    let token = await tokenFor(account);
    const body = buildRequest(req, { modelId: kiroModelId(req.model), profileArn: creds.profile_arn || token.profileArn, thinking: req.thinking === true });
    let reply;
    try {
      reply = await generate(opts.endpoints, region, token.accessToken, body, opts.pool.proxyFor(account), ctx.signal);
    } catch (err) {
      // a token revoked early: refresh once and retry before calling the account bad
      if (!(err instanceof Unauthorized)) throw err;
      token = await tokenFor(account, true);
      reply = await generate(opts.endpoints, region, token.accessToken, body, opts.pool.proxyFor(account), ctx.signal);
    }
    ctx.log.debug({ account: account.id, endpoint: reply.endpoint }, 'kiro answering');
    const x = new KiroTranslator(req.thinking === true);
    for await (const ev of kiroEvents(reply.res.body ?? (async function* () {})())) {
      for (const p of x.event(ev.type, ev.payload)) yield p;
    }
    for (const p of x.end()) yield p;
    const inputTokens = x.contextPercent !== undefined ? Math.round((CONTEXT_WINDOW * x.contextPercent) / 100) : estimateInputTokens(req);
    yield { type: 'usage', usage: { inputTokens, outputTokens: countTextTokens(x.output) } };
    yield { type: 'finish', reason: x.toolCalls ? 'tool-calls' : 'stop' };
  }

  let timer: NodeJS.Timeout | undefined;
  const provider: KiroProvider = {
    id: PROVIDER_ID,
    nativeTools: true,
    supportsThinking: true,
    models: (): ModelInfo[] => (opts.pool.accounts().some((a) => a.enabled) ? opts.models().map((id) => ({ id, provider: PROVIDER_ID, upstreamId: kiroModelId(id) })) : []),
    handles: (model) => opts.models().includes(model) || model in KIRO_MODEL_IDS,
    accountFromHeaders,
    stream: (req, ctx) => opts.pool.stream(ctx, req.sessionKey, (account, actx) => attempt(req, actx, account)),
    async refreshDue() {
      const due = opts.pool.accounts().filter((a) => a.enabled && !a.disabledReason && (tokens.peek(a.id)?.expiresAt ?? Infinity) - Date.now() < EXPIRY_MARGIN_MS);
      await Promise.allSettled(due.map((a) => tokenFor(a, true)));
    },
    tokenOf: (id) => tokens.peek(id),
    pool: opts.pool,
    async testAccount(account) {
      const t = await tokenFor(account as Account, true);
      return `token refreshed; valid for ${Math.round((t.expiresAt - Date.now()) / 60_000)} min`;
    },
    async status() {
      const accounts = await Promise.all(
        opts.pool.status().map(async (s) => {
          const account = opts.store.get(s.id);
          const token = tokens.peek(s.id);
          let usage = limits.get(s.id);
          if (account && token && (!usage || Date.now() - usage.at > 5 * 60_000)) {
            const creds = account.credentials as unknown as KiroCredentials;
            try {
              usage = { at: Date.now(), limits: await usageLimits(opts.endpoints, creds.region || 'us-east-1', token.accessToken, creds.profile_arn || token.profileArn, opts.pool.proxyFor(account)) };
              limits.set(s.id, usage);
            } catch {
              // limits are informative; a failure here says nothing about the account
            }
          }
          return { ...s, tokenExpiresAt: token ? new Date(token.expiresAt).toISOString() : null, usageLimits: usage?.limits ?? null };
        }),
      );
      return { id: PROVIDER_ID, available: opts.pool.usable().length > 0, detail: { accounts } };
    },
    async close() {
      if (timer) clearInterval(timer);
    },
  };
  timer = setInterval(() => void provider.refreshDue(), opts.refreshIntervalMs);
  timer.unref();
  return provider;
}
