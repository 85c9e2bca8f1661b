/**
 * Every provider as the console's overview (and the router's route readiness) shows it: its kind (a CLI, an account pool, an upstream
 * API), whether it could take a request now and why not, with what to do about it: a CLI's
 * install and login state (its cached status probe), a pool's usable accounts, the warm
 * processes a CLI has waiting per model. The doctor (src/doctor/) renders the same views in a terminal.
 */
import type { Provider } from '../core/provider.js';

/** the warm processes waiting, per command and model (the CLI runtime's warm pool) */
export interface WarmShapes {
  shapes(): { command: string; model?: string; idle: number; starting: number }[];
}

export type ProviderKind = 'cli' | 'accounts' | 'upstream';

export interface ProviderView {
  id: string;
  kind: ProviderKind;
  /** could take a request now */
  ready: boolean;
  /** in a few words: why (not) */
  detail: string;
  /** what to run or set to make it ready */
  fix?: string;
  models: string[];
  cli?: { path?: string; installed: boolean; version?: string; loggedIn?: boolean; auth?: string; reason?: string };
  /** a pool's accounts; oauthClient: the OAuth client its refresh tokens need is configured (Cloud Code) */
  accounts?: { usable: number; total: number; enabled: number; oauthClient?: boolean };
  upstream?: Record<string, unknown>;
  /** warm processes of this CLI, per model */
  warm?: { model: string; idle: number; starting: number }[];
}

/** how each vendor CLI is installed, and the variable that points cligate at it */
const INSTALL: Record<string, { pkg: string; variable: string }> = {
  'claude-cli': { pkg: '@anthropic-ai/claude-code', variable: 'CLAUDE_CLI_PATH' },
  'gemini-cli': { pkg: '@google/gemini-cli', variable: 'GEMINI_CLI_PATH' },
  'qwen-cli': { pkg: '@qwen-code/qwen-code', variable: 'QWEN_CLI_PATH' },
  'codex-cli': { pkg: '@openai/codex', variable: 'CODEX_CLI_PATH' },
};

/** what a caller knows beyond the provider object (the doctor passes the configuration's view) */
export interface ViewOptions {
  /** per pool id: is the OAuth client its accounts sign in to configured (Cloud Code) */
  oauthClient?: Record<string, boolean>;
}

/** how an account gets into each pool, for the fix of a pool without accounts */
const ADD_ACCOUNT: Record<string, string> = {
  'gemini-enterprise': 'add a Gemini Enterprise account in the admin console (/admin/, needs ADMIN_PASSWORD), or import one: `cligate accounts import <file>` (npm run accounts:import -- <file>)',
  kiro: 'add a Kiro account (its refresh token) in the admin console (/admin/, needs ADMIN_PASSWORD) or in DATA_DIR/accounts.json',
  cloudcode: 'sign in a Google account: `cligate accounts add` (npm run accounts:add; --manual on a headless machine)',
};

/** where a Cloud Code OAuth client comes from, and what to set */
export const OAUTH_CLIENT_FIX =
  'set CLOUDCODE_OAUTH_CLIENT_ID and CLOUDCODE_OAUTH_CLIENT_SECRET: the Google OAuth client your accounts sign in to (the one their refresh tokens were issued to, or a "Desktop app" client from console.cloud.google.com > APIs & Services > Credentials)';

/** the fix of an upstream that is not configured: a local OpenAI-compatible server answers without any vendor account */
export const UPSTREAM_FIX =
  'point it at an OpenAI-compatible server, e.g. Ollama (`ollama serve`, `ollama pull llama3.2`): OPENAI_COMPATIBLE_BASE_URL=http://127.0.0.1:11434/v1 OPENAI_COMPATIBLE_MODELS=llama3.2';

export function kindOf(p: Provider): ProviderKind {
  if (p.pool) return 'accounts';
  // CLI providers start warm processes; an HTTP upstream has nothing to warm
  return typeof p.prewarm === 'function' ? 'cli' : 'upstream';
}

export async function providerView(p: Provider, warmPool?: WarmShapes, opts: ViewOptions = {}): Promise<ProviderView> {
  const kind = kindOf(p);
  const base = { id: p.id, kind, models: p.models().map((m) => m.id) };
  if (p.pool) {
    const accounts = p.pool.status();
    const usable = accounts.filter((a) => a.usable).length;
    const enabled = accounts.filter((a) => a.enabled).length;
    const oauthClient = opts.oauthClient?.[p.id];
    let fix: string | undefined;
    if (oauthClient === false) fix = accounts.length ? OAUTH_CLIENT_FIX : `${OAUTH_CLIENT_FIX}; then ${ADD_ACCOUNT[p.id] ?? `add an account for ${p.id}`}`;
    else if (!usable) fix = accounts.length ? (enabled ? 'wait for the resting accounts, or test / fix their credentials' : 'enable an account') : (ADD_ACCOUNT[p.id] ?? `add an account for ${p.id}`);
    // accounts without the OAuth client cannot refresh their tokens: not ready, whatever the pool says
    const ready = usable > 0 && oauthClient !== false;
    return {
      ...base,
      ready,
      detail: (accounts.length ? `${usable} of ${accounts.length} accounts usable` : 'no accounts') + (oauthClient === false ? '; no OAuth client configured' : ''),
      ...(fix ? { fix } : {}),
      accounts: { usable, total: accounts.length, enabled, ...(oauthClient !== undefined ? { oauthClient } : {}) },
    };
  }
  const status = p.status ? await p.status().catch((e: unknown) => ({ id: p.id, available: false, detail: { reason: (e as Error).message } })) : { id: p.id, available: true, detail: {} };
  const s = status.detail as { baseUrl?: string; path?: string; installed?: boolean; version?: string; loggedIn?: boolean; auth?: string; reason?: string; error?: string };
  if (kind === 'upstream') {
    return { ...base, ready: status.available, detail: status.available ? 'ready' : (s.reason ?? s.error ?? (s.baseUrl ? `no models listed for ${s.baseUrl}` : 'not configured')), ...(status.available ? {} : { fix: s.baseUrl ? 'list the models it serves in OPENAI_COMPATIBLE_MODELS' : UPSTREAM_FIX }), upstream: status.detail };
  }
  const installed = s.installed ?? status.available;
  const cli = {
    ...(s.path ? { path: s.path } : {}),
    installed,
    ...(s.version ? { version: s.version } : {}),
    ...(s.loggedIn !== undefined ? { loggedIn: s.loggedIn } : {}),
    ...(s.auth ? { auth: s.auth } : {}),
    ...(s.reason ?? s.error ? { reason: s.reason ?? s.error } : {}),
  };
  const ready = status.available && s.loggedIn !== false;
  let fix: string | undefined;
  if (!installed) {
    const how = INSTALL[p.id];
    fix = how ? `npm install -g ${how.pkg} (or set ${how.variable} to its path)` : 'install it, or set its path variable';
  } else if (s.loggedIn === false) {
    // the probe's reason ends with the login command: "...; run `claude login`"
    fix = /`([^`]+)`/.exec(s.reason ?? '')?.[1] ?? 'log in with the CLI';
  }
  const warm = warmPool && s.path ? warmPool.shapes().filter((w) => w.command === s.path).map((w) => ({ model: w.model ?? '(default)', idle: w.idle, starting: w.starting })) : [];
  return {
    ...base,
    ready,
    detail: ready ? (s.version ? `ready (${s.version})` : 'ready') : (cli.reason ?? (installed ? 'not logged in' : 'not installed')),
    ...(fix ? { fix } : {}),
    cli,
    warm,
  };
}

/** every provider, probed at once (the probes are cached by the providers) */
export function providerViews(providers: readonly Provider[], warm?: WarmShapes, opts: ViewOptions = {}): Promise<ProviderView[]> {
  return Promise.all(providers.map((p) => providerView(p, warm, opts)));
}
