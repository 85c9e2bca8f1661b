/**
 * Configuration from the environment (and a `.env` file), validated once at start-up.
 * Every variable has a default; `.env.example` and the README table list them all.
 */
import { z } from 'zod';
import { parseRoutes } from './routing/routes.js';
import { DEFAULT_KNOWN_TOOLS } from './features/xml-tools/detect.js';
import { DEFAULT_KIRO_MODELS } from './providers/kiro/models.js';
import { DEFAULT_ENDPOINTS as KIRO } from './providers/kiro/client.js';
import { DEFAULT_MODELS as CLOUDCODE_MODELS } from './providers/cloudcode/index.js';
import { isProxyUrl } from './accounts/http.js';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number) => z.coerce.number().int().min(min);
const list = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
);
/** a comma list, or a JSON list of strings as clis-wrapper wrote it (CORS_ORIGINS=["*"]) */
const listOrJson = z.string().transform((s, ctx) => {
  if (!s.trim().startsWith('[')) return s.split(',').map((x) => x.trim()).filter(Boolean);
  try {
    const v: unknown = JSON.parse(s);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.map((x) => x.trim()).filter(Boolean);
  } catch {
    // refused below
  }
  ctx.addIssue({ code: 'custom', message: 'a comma-separated list, or a JSON list of strings such as ["http://a","http://b"]' });
  return z.NEVER;
});

export const configSchema = z.object({
  PORT: int(0).max(65535).default(8000),
  HOST: z.string().min(1).default('0.0.0.0'),
  API_KEY: z.string().default(''),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // auto: one human line per entry on a terminal, JSON lines otherwise (src/log.ts)
  LOG_FORMAT: z.enum(['auto', 'pretty', 'json']).default('auto'),
  CORS_ORIGINS: listOrJson.default(['*']),
  BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb|gb)?$/i, 'a size such as 10mb').default('10mb'),
  // ms a request body may take to arrive (then 408 and the connection closed; 0 = no limit)
  BODY_TIMEOUT: int(0).default(30_000),
  // ms a client may take to send the request headers, and an idle keep-alive connection stays open
  HEADERS_TIMEOUT: int(1).default(60_000),
  KEEPALIVE_TIMEOUT: int(1).default(65_000),

  // "alias=target" pairs, comma-separated; a target may be provider-qualified ("fast=claude-cli/claude-haiku-4-5")
  MODEL_ALIASES: z
    .string()
    .default('')
    .transform((s, ctx) => {
      const out: Record<string, string> = {};
      for (const pair of s.split(',').map((x) => x.trim()).filter(Boolean)) {
        const [alias, target, ...rest] = pair.split('=').map((x) => x.trim());
        if (!alias || !target || rest.length) {
          ctx.addIssue({ code: 'custom', message: `"${pair}" is not alias=target` });
          return z.NEVER;
        }
        out[alias] = target;
      }
      return out;
    }),
  // model routes: "name-or-glob=provider/model,provider/model,…" separated by ";" (each target tried when the one before cannot start)
  MODEL_ROUTES: z
    .string()
    .default('')
    .transform((s, ctx) => {
      try {
        return parseRoutes(s);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  // provider ids in the order a bare model name is offered to them
  PROVIDER_ORDER: list.default([]),

  CLAUDE_CLI_PATH: z.string().min(1).default('claude'),
  // model defaults are the current models of the pinned CLIs (tests/config/model-defaults.test.ts keeps them so):
  // Claude Code's opus / sonnet / haiku (its default is the first)
  CLAUDE_MODELS: list.default(['claude-opus-4-8', 'claude-sonnet-4-6', 'claude-haiku-4-5']),
  // empty (set, to nothing) means no tools at all
  CLAUDE_ALLOWED_TOOLS: list.default(['WebSearch', 'WebFetch']),
  // ms answer text of a CLI with tools is held (at most) to tell a tool preamble from the answer (0 = not held)
  PREAMBLE_HOLD_MS: int(0).default(1000),
  SANDBOX_TEMPLATE_DIR: z.string().default(''),

  GEMINI_CLI_PATH: z.string().min(1).default('gemini'),
  // the Gemini CLI's DEFAULT_GEMINI_MODEL, DEFAULT_GEMINI_FLASH_MODEL, DEFAULT_GEMINI_FLASH_LITE_MODEL
  GEMINI_MODEL: z.string().min(1).default('gemini-2.5-pro'),
  GEMINI_MODELS: list.default(['gemini-2.5-pro', 'gemini-3.5-flash', 'gemini-3.1-flash-lite']),

  QWEN_CLI_PATH: z.string().min(1).default('qwen'),
  // Qwen Code's default for its Qwen OAuth login (the only model that login serves), then its API-key default and coder
  QWEN_MODEL: z.string().min(1).default('coder-model'),
  QWEN_MODELS: list.default(['coder-model', 'qwen3.5-plus', 'qwen3-coder-plus']),

  CODEX_CLI_PATH: z.string().min(1).default('codex'),
  // Codex's default model, then the next of its listed models
  CODEX_MODEL: z.string().min(1).default('gpt-6.1-sol'),
  CODEX_MODELS: list.default(['gpt-6.1-sol', 'gpt-6-astra', 'gpt-6-luna']),

  // remove the CLIs' session files for cligate's sandboxes, after this delay (0: right after the request)
  CLEANUP_SESSIONS: bool.default(true),
  CLEANUP_DELAY_MINUTES: z.coerce.number().min(0).default(720),
  // cligate's own state (pending cleanups); empty means ~/.cligate
  STATE_DIR: z.string().default(''),

  MAX_TIMEOUT: int(1).default(600_000),
  WORKER_CONCURRENCY: int(1).default(4),
  QUEUE_LIMIT: int(0).default(32),
  QUEUE_TIMEOUT: int(1).default(120_000),
  SHUTDOWN_GRACE: int(0).default(30_000),
  SSE_KEEPALIVE_INTERVAL: z.coerce.number().positive().default(30),
  // seconds a request may wait for its first answer token: API providers then try the next account,
  // CLI providers fail with 504 (0 = off; MAX_TIMEOUT still applies)
  FIRST_TOKEN_TIMEOUT: z.coerce.number().min(0).default(120),

  // "-progress" models: seconds before the first rotating marker; the spacing doubles up to the max
  PROGRESS_INTERVAL: z.coerce.number().positive().default(2),
  PROGRESS_MAX_INTERVAL: z.coerce.number().positive().default(30),

  // XML tool use (older Roo Code / Cline): detection threshold and the tool names it knows
  XML_CONFIDENCE_THRESHOLD: z.coerce.number().default(5),
  XML_KNOWN_TOOLS: list.default(DEFAULT_KNOWN_TOOLS),

  // images: each is normalised to fit these limits; more than IMAGE_MAX_COUNT distinct images is a 400
  IMAGE_MAX_BYTES: int(1024).default(3_932_160),
  IMAGE_MAX_DIMENSION: int(16).default(2000),
  IMAGE_MAX_COUNT: int(1).default(20),
  // image URLs are fetched with these limits (seconds, bytes)
  IMAGE_FETCH_TIMEOUT: z.coerce.number().positive().default(10),
  IMAGE_FETCH_MAX_BYTES: int(1024).default(20 * 1024 * 1024),
  IMAGE_FETCH_ALLOW_PRIVATE: bool.default(false),

  // API-backed providers: the account store (DATA_DIR/accounts.json) and pool behaviour
  DATA_DIR: z.string().min(1).default('./data'),
  ACCOUNT_COOLDOWN_BASE: z.coerce.number().positive().default(1),
  ACCOUNT_COOLDOWN_MAX: z.coerce.number().positive().default(300),
  // tries across accounts per request when a provider's settings do not say (0 = every account once)
  ACCOUNT_MAX_ATTEMPTS: int(0).default(0),
  // images generated upstream: served at /image/:file under this base URL ("" = the request's own origin)
  IMAGE_BASE_URL: z.string().default(''),
  IMAGE_CACHE_TTL_MINUTES: z.coerce.number().positive().default(60),
  // Gemini Enterprise endpoints (change only to point at a test double or a regional host)
  GEMINI_ENTERPRISE_AUTH_URL: z.string().url().default('https://business.gemini.google'),
  GEMINI_ENTERPRISE_API_URL: z.string().url().default('https://biz-discoveryengine.googleapis.com'),

  // Kiro (Amazon Q Developer) accounts: models served, background refresh period, endpoints ({region} is filled in)
  KIRO_MODELS: list.default(DEFAULT_KIRO_MODELS),
  KIRO_REFRESH_INTERVAL: z.coerce.number().positive().default(30),
  KIRO_SOCIAL_REFRESH_URL: z.string().min(1).default(KIRO.socialRefresh),
  KIRO_OIDC_URL: z.string().min(1).default(KIRO.oidcToken),
  KIRO_API_URL: z.string().min(1).default(KIRO.codewhisperer),
  KIRO_Q_URL: z.string().min(1).default(KIRO.amazonQ),
  // stateless gateway mode: per-request accounts in X-Kiro-* headers are accepted only with this key ("" = off)
  INTERNAL_API_KEY: z.string().default(''),
  // Google Cloud Code / Antigravity accounts: the OAuth client their refresh tokens were issued to, endpoints in fallback order
  CLOUDCODE_OAUTH_CLIENT_ID: z.string().default(''),
  CLOUDCODE_OAUTH_CLIENT_SECRET: z.string().default(''),
  CLOUDCODE_TOKEN_URL: z.string().url().default('https://oauth2.googleapis.com/token'),
  CLOUDCODE_AUTH_URL: z.string().url().default('https://accounts.google.com/o/oauth2/v2/auth'),
  CLOUDCODE_USERINFO_URL: z.string().url().default('https://www.googleapis.com/oauth2/v2/userinfo'),
  CLOUDCODE_ENDPOINTS: list.default(['https://daily-cloudcode-pa.sandbox.googleapis.com', 'https://cloudcode-pa.googleapis.com']),
  CLOUDCODE_MODELS: list.default(CLOUDCODE_MODELS),

  // several instances: shared state (rate limits, account health, sticky sessions, round-robin, tokens, refresh locks) in Redis ("" = this process's memory)
  REDIS_URL: z.string().regex(/^(rediss?:\/\/.*)?$/, 'a redis:// or rediss:// URL').default(''),
  REDIS_PREFIX: z.string().default('cligate:'),
  // ms one shared-state operation may take; past it (or with Redis away) this instance answers from its own memory until Redis is back
  REDIS_DEADLINE_MS: int(1).default(50),
  // pre-started CLI processes per request shape (0 = off), how long an unused one lives (s), models warmed at start (no system prompt)
  WARM_POOL_SIZE: int(0).default(0),
  WARM_POOL_IDLE: z.coerce.number().positive().default(300),
  WARM_POOL_MODELS: list.default([]),
  // GET /metrics without the API key (for a scraper on a private network)
  METRICS_PUBLIC: bool.default(false),
  // admin API and console (/api, /admin): off while the password is empty
  ADMIN_PASSWORD: z.string().default(''),
  ADMIN_SESSION_HOURS: z.coerce.number().positive().default(12),
  // usage records and chat history under DATA_DIR/usage, kept this many days (0 = forever)
  USAGE_RETENTION_DAYS: int(0).default(30),
  HISTORY_ENABLED: bool.default(true),
  HISTORY_MAX_CHARS: int(100).default(4000),
  HISTORY_LIMIT: int(1).default(500),
  // stored Responses-API answers (previous_response_id, GET/DELETE /v1/responses/{id}): kept this many seconds,
  // at most this many bytes in memory all together (in Redis, per response) when REDIS_URL is set
  RESPONSES_STORE_TTL: int(1).default(21_600),
  RESPONSES_STORE_MAX_BYTES: int(1024).default(67_108_864),
  // default proxy of every account-pool request (an account's proxy, then the store's, win): http(s)://, socks5(h)://,
  // socks4(a)://; a bare host:port means http:// (Kiro gateway's VPN_PROXY_URL is read as this: legacy-env.ts)
  UPSTREAM_PROXY: z
    .string()
    .transform((s) => (s && !s.includes('://') ? `http://${s}` : s))
    .refine((s) => !s || isProxyUrl(s), 'an http(s)://, socks5(h):// or socks4(a):// URL')
    .default(''),
  // what POST /api/proxy/test fetches through the proxy
  PROXY_TEST_URL: z.string().url().default('https://www.google.com/generate_204'),

  // a generic OpenAI-compatible upstream (local model server, another gateway): base URL ending in /v1, key, models it serves
  OPENAI_COMPATIBLE_BASE_URL: z.string().regex(/^(https?:\/\/.+)?$/, 'an http(s) URL').default(''),
  OPENAI_COMPATIBLE_API_KEY: z.string().default(''),
  OPENAI_COMPATIBLE_MODELS: list.default([]),

  // the model-name suffix that turns reasoning on
  THINKING_SUFFIX: z.string().regex(/^-[\w.-]+$/, 'a suffix such as -thinking').default('-thinking'),

  RATE_LIMIT_ENABLED: bool.default(true),
  RATE_LIMIT_CHAT_PER_MINUTE: int(1).default(60),
  RATE_LIMIT_MODELS_PER_MINUTE: int(1).default(120),
  // Claude Code fires dozens of count_tokens calls at start-up
  RATE_LIMIT_COUNT_TOKENS_PER_MINUTE: int(1).default(600),
  RATE_LIMIT_HEALTH_PER_MINUTE: int(1).default(300),
  RATE_LIMIT_AUTH_STATUS_PER_MINUTE: int(1).default(30),
  // /v1/debug/request, served only with LOG_LEVEL debug or trace
  RATE_LIMIT_DEBUG_PER_MINUTE: int(1).default(30),
  RATE_LIMIT_ADMIN_LOGIN_PER_MINUTE: int(1).default(10),
});

export type Config = z.infer<typeof configSchema>;

/** variables whose empty value says "none" (CLAUDE_ALLOWED_TOOLS= : no tools), not "the default" */
const EMPTY_MEANS_NONE = new Set(['CLAUDE_ALLOWED_TOOLS']);

/** Parse an environment into a Config, or throw a message that names each bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // an empty value means the default, except where empty is a setting of its own
  const present = Object.fromEntries(Object.entries(env).filter(([k, v]) => v !== undefined && (v !== '' || EMPTY_MEANS_NONE.has(k))));
  const result = configSchema.safeParse(present);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return result.data;
}
