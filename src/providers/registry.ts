/** Every provider, built from config. Adding a provider adds one line here. */
import type { Provider } from '../core/provider.js';
import type { Config } from '../config.js';
import type { CliRuntime } from '../runtime/cli-request.js';
import { createClaudeProvider } from './claude/index.js';
import { createGeminiProvider } from './gemini/index.js';
import { createQwenProvider } from './qwen/index.js';
import { createCodexProvider } from './codex/index.js';
import { createGeminiEnterpriseProvider, DEFAULT_MODELS as ENTERPRISE_MODELS, PROVIDER_ID as ENTERPRISE } from './gemini-enterprise/index.js';
import type { AccountStore } from '../accounts/store.js';
import type { Strategy } from '../accounts/types.js';
import { createKiroProvider, PROVIDER_ID as KIRO } from './kiro/index.js';
import { createCloudCodeProvider, PROVIDER_ID as CLOUDCODE } from './cloudcode/index.js';
import { createOpenAICompatibleProvider } from './openai-compatible/index.js';
import { AccountPool, type PoolEvents } from '../accounts/pool.js';
import type { ImageCache } from '../features/image-cache.js';
import type { SharedState } from '../state/shared-state.js';

export interface ApiProviderDeps {
  store: AccountStore;
  images: ImageCache;
  events?: PoolEvents;
  shared?: SharedState;
}

/** one pool per API provider, all over the same store */
function poolFor(provider: string, config: Config, deps: ApiProviderDeps, defaults: { maxAttempts?: number; strategy?: Strategy; stickyWaitMs?: number } = {}): AccountPool {
  return new AccountPool({
    provider,
    store: deps.store,
    health: { baseMs: config.ACCOUNT_COOLDOWN_BASE * 1000, maxMs: config.ACCOUNT_COOLDOWN_MAX * 1000 },
    defaultStrategy: defaults.strategy ?? 'round-robin',
    defaultMaxAttempts: defaults.maxAttempts ?? config.ACCOUNT_MAX_ATTEMPTS,
    ...(defaults.stickyWaitMs ? { stickyWaitMs: defaults.stickyWaitMs } : {}),
    firstTokenMs: config.FIRST_TOKEN_TIMEOUT * 1000,
    ...(config.UPSTREAM_PROXY ? { defaultProxy: config.UPSTREAM_PROXY } : {}),
    ...(deps.events ? { events: deps.events } : {}),
    ...(deps.shared ? { shared: deps.shared } : {}),
  });
}

export function createProviders(config: Config, runtime: CliRuntime, env: NodeJS.ProcessEnv, deps: ApiProviderDeps): Provider[] {
  return [
    // API providers first: they claim only the names they list, the CLIs claim whole name patterns
    createOpenAICompatibleProvider({ baseUrl: config.OPENAI_COMPATIBLE_BASE_URL, apiKey: config.OPENAI_COMPATIBLE_API_KEY, models: config.OPENAI_COMPATIBLE_MODELS, proxy: deps.store.proxy }),
    createGeminiEnterpriseProvider({
      // every account is tried before a request fails
      pool: poolFor(ENTERPRISE, config, deps, { maxAttempts: 0 }),
      endpoints: { auth: config.GEMINI_ENTERPRISE_AUTH_URL, api: config.GEMINI_ENTERPRISE_API_URL },
      images: deps.images,
      imageBaseUrl: config.IMAGE_BASE_URL,
      models: () => deps.store.settings(ENTERPRISE).models ?? ENTERPRISE_MODELS,
    }),
    createCloudCodeProvider({
      // sticky for prompt caching: a session waits out rests of up to 2 minutes, longer ones move it
      pool: poolFor(CLOUDCODE, config, deps, { strategy: 'sticky', stickyWaitMs: 120_000, maxAttempts: 0 }),
      store: deps.store,
      endpoints: { token: config.CLOUDCODE_TOKEN_URL, api: config.CLOUDCODE_ENDPOINTS },
      oauth: { clientId: config.CLOUDCODE_OAUTH_CLIENT_ID, clientSecret: config.CLOUDCODE_OAUTH_CLIENT_SECRET },
      models: () => deps.store.settings(CLOUDCODE).models ?? config.CLOUDCODE_MODELS,
      // thinking signatures: a next turn may land on another instance
      ...(deps.shared ? { shared: deps.shared } : {}),
    }),
    createKiroProvider({
      // weighted over enabled accounts, up to 4 attempts
      pool: poolFor(KIRO, config, deps, { maxAttempts: 4, strategy: 'weighted' }),
      store: deps.store,
      endpoints: { socialRefresh: config.KIRO_SOCIAL_REFRESH_URL, oidcToken: config.KIRO_OIDC_URL, codewhisperer: config.KIRO_API_URL, amazonQ: config.KIRO_Q_URL },
      models: () => deps.store.settings(KIRO).models ?? config.KIRO_MODELS,
      refreshIntervalMs: config.KIRO_REFRESH_INTERVAL * 60_000,
    }),
    createClaudeProvider({
      cliPath: config.CLAUDE_CLI_PATH,
      models: config.CLAUDE_MODELS,
      allowedTools: config.CLAUDE_ALLOWED_TOOLS,
      runtime,
      env,
    }),
    createGeminiProvider({ cliPath: config.GEMINI_CLI_PATH, defaultModel: config.GEMINI_MODEL, models: config.GEMINI_MODELS, runtime, env }),
    createQwenProvider({ cliPath: config.QWEN_CLI_PATH, defaultModel: config.QWEN_MODEL, models: config.QWEN_MODELS, runtime, env }),
    createCodexProvider({ cliPath: config.CODEX_CLI_PATH, defaultModel: config.CODEX_MODEL, models: config.CODEX_MODELS, runtime, env }),
  ];
}
