/**
 * Google Cloud Code / Antigravity accounts (Google OAuth refresh tokens) behind the
 * account pool, sticky by session so prompt caches stay warm: a conversation keeps its
 * account unless that account rests for more than 2 minutes. Claude and Gemini models
 * through the v1internal streamGenerateContent API with endpoint fallback; thinking
 * signatures kept across turns (shared through Redis when there is one: a next turn may
 * land on another instance); the conversation's session id upstream so its turns read
 * Google's prompt cache (cached tokens reported in usage); per-account quotas for
 * GET /account-limits.
 */
import { createParser } from 'eventsource-parser';
import type { ModelInfo, Provider, ProviderContext } from '../../core/provider.js';
import type { ChatRequest } from '../../core/request.js';
import type { StreamPart } from '../../core/stream.js';
import { Unauthorized, UpstreamError } from '../../core/errors.js';
import type { AccountPool } from '../../accounts/pool.js';
import type { AccountStore } from '../../accounts/store.js';
import type { Account } from '../../accounts/types.js';
import { TokenCache } from '../../accounts/token-cache.js';
import { discoverProject, fetchQuota, postWithFallback, refreshAccessToken, type CloudCodeEndpoints, type ModelQuota, type OAuthClient } from './client.js';
import type { SharedState } from '../../state/shared-state.js';
import { buildInner, envelope, restoreToolLoop, scopeOf, sessionIdFor } from './request.js';
import { SignatureCache } from './signatures.js';
import { CloudCodeTranslator } from './translate.js';

export const PROVIDER_ID = 'cloudcode';
export const DEFAULT_MODELS = ['claude-sonnet-4-5-thinking', 'claude-opus-4-5-thinking', 'gemini-3-flash', 'gemini-3-pro-low', 'gemini-3-pro-high'];

export interface CloudCodeOptions {
  pool: AccountPool;
  store: AccountStore;
  endpoints: CloudCodeEndpoints;
  oauth: OAuthClient;
  models(): string[];
  /** where thinking signatures are shared between instances (used when it is Redis) */
  shared?: SharedState;
}

export interface AccountLimits {
  account: string;
  email?: string;
  project?: string;
  error?: string;
  models: ModelQuota[];
}

export interface CloudCodeProvider extends Provider {
  accountLimits(): Promise<AccountLimits[]>;
}

export function createCloudCodeProvider(opts: CloudCodeOptions): CloudCodeProvider {
  const tokens = new TokenCache<{ accessToken: string; expiresAt: number }>(opts.pool, 60_000);
  const sigs = new SignatureCache({ ...(opts.shared ? { shared: opts.shared } : {}) });

  async function tokenFor(account: Account, force = false): Promise<string> {
    const t = await tokens.get(account, () => {
      const refresh = account.credentials.refresh_token;
      if (!refresh) throw new Unauthorized(`Cloud Code account "${account.id}" has no refresh_token.`, { code: 'account_incomplete' });
      return refreshAccessToken(opts.endpoints.token, opts.oauth, refresh, opts.pool.proxyFor(account));
    }, { force });
    return t.accessToken;
  }

  /** the project id, discovered once and cached in the store */
  async function projectFor(account: Account, token: string): Promise<string> {
    const known = opts.store.get(account.id)?.credentials.project_id ?? account.credentials.project_id;
    if (known) return known;
    return opts.pool.refresh({ ...account, id: `${account.id}#project` }, async () => {
      const project = await discoverProject(opts.endpoints, token, opts.pool.proxyFor(account));
      const stored = opts.store.get(account.id);
      if (stored) await opts.store.update(account.id, { credentials: { ...stored.credentials, project_id: project } });
      return project;
    });
  }

  async function* attempt(req: ChatRequest, ctx: ProviderContext, account: Account): AsyncGenerator<StreamPart> {
    const token = await tokenFor(account);
    const project = await projectFor(account, token);
    const scope = scopeOf(req);
    const inner = buildInner(req, sigs, scope);
    const restored = await restoreToolLoop(inner, req, sigs, scope, (err) => ctx.log.warn({ err: err.message }, 'Cloud Code: signature look-up in the shared state failed; treated as not found'));
    if (restored.thinkingOff) ctx.log.debug({ model: req.model, reason: restored.thinkingOff }, 'Cloud Code: thinking off for this request (the upstream refuses a tool-call turn without its signed thinking)');
    else if (restored.thinking || restored.calls) ctx.log.debug({ thinking: restored.thinking, calls: restored.calls }, 'Cloud Code: signatures the client dropped restored');
    const { res } = await postWithFallback(opts.endpoints, 'streamGenerateContent', token, envelope(req, project, inner, sessionIdFor(req, account.id)), opts.pool.proxyFor(account), ctx.signal, '?alt=sse');
    const x = new CloudCodeTranslator(sigs, scope);
    // a call goes to the client only once its turn is stored (its next turn may come to another instance)
    const store = async () => {
      const turns = x.takeTurns();
      if (!turns.length) return;
      try {
        await Promise.all(turns.map((t) => sigs.saveTurn(scope, [t.id], t.record)));
      } catch (err) {
        ctx.log.warn({ err: (err as Error).message }, 'Cloud Code: storing thinking signatures in the shared state failed; a next turn on another instance runs without thinking');
      }
    };
    const queue: StreamPart[] = [];
    let bad: Error | undefined;
    const parser = createParser({
      onEvent: (ev) => {
        if (!ev.data || ev.data === '[DONE]') return;
        try {
          queue.push(...x.chunk(JSON.parse(ev.data)));
        } catch (err) {
          bad = new UpstreamError(`Cloud Code sent an unreadable event: ${(err as Error).message}`);
        }
      },
    });
    const decoder = new TextDecoder();
    for await (const chunk of res.body ?? []) {
      parser.feed(decoder.decode(chunk, { stream: true }));
      if (bad) throw bad;
      await store();
      while (queue.length) yield queue.shift()!;
    }
    await store();
    for (const p of x.end()) yield p;
  }

  return {
    id: PROVIDER_ID,
    // names such as "claude-sonnet-4-5-thinking" are models of their own here
    models: (): ModelInfo[] => (opts.pool.accounts().some((a) => a.enabled) ? opts.models().map((id) => ({ id, provider: PROVIDER_ID })) : []),
    handles: (model) => opts.models().includes(model),
    nativeTools: true,
    pool: opts.pool,
    async testAccount(account) {
      const token = await tokenFor(account as Account, true);
      return `token refreshed; project ${await projectFor(account as Account, token)}`;
    },
    stream: (req, ctx) => opts.pool.stream(ctx, req.sessionKey, (account, actx) => attempt(req, actx, account)),
    async accountLimits() {
      return Promise.all(
        opts.pool.accounts().map(async (a): Promise<AccountLimits> => {
          const base = { account: a.id, ...(a.credentials.email ? { email: a.credentials.email } : {}) };
          if (!a.enabled) return { ...base, error: 'disabled', models: [] };
          try {
            const token = await tokenFor(a);
            const project = await projectFor(a, token);
            return { ...base, project, models: await fetchQuota(opts.endpoints, token, project, opts.pool.proxyFor(a)) };
          } catch (err) {
            return { ...base, error: (err as Error).message, models: [] };
          }
        }),
      );
    },
    async status() {
      return { id: PROVIDER_ID, available: opts.pool.usable().length > 0, detail: { accounts: opts.pool.status() } };
    },
  };
}
