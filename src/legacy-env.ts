/**
 * Environment names of the systems cligate replaces, read as cligate's own: one table of
 * legacy name -> the cligate variable it sets (if any), how its value becomes cligate's, and
 * the one-line notice logged at start. Applied to the environment before loadConfig; a cligate
 * variable that is set (not empty) wins over the legacy one.
 *
 * clis-wrapper (Labiri/clis-wrapper): what each name meant there is in its main.py /
 * rate_limiter.py; docs/migrating-clis-wrapper.md has the whole comparison.
 * Kiro gateway (jwadow/kiro-gateway: kiro/config.py, main.py), antigravity-claude-proxy (src/config.js),
 * gemini-business2api (.env.example): docs/migrating.md.
 */
import { isProxyUrl } from './accounts/http.js';
import { maskProxy, maskSecret } from './accounts/mask.js';

export interface LegacyVariable {
  /** the system the name comes from */
  from: 'clis-wrapper' | 'Kiro gateway' | 'antigravity-claude-proxy' | 'gemini-business2api';
  /** the cligate variable it sets; none: cligate has no equivalent (the note says what it does instead) */
  cligate?: string;
  /** the cligate value for the legacy value; undefined: nothing to set for this value. Throws a message for a value that cannot be used. */
  transform?: (value: string) => string | undefined;
  /** how a value appears in the notice (a proxy URL's password masked); default: as it is */
  shown?: (value: string) => string;
  /** what the name meant there and what cligate does, for the start-up notice */
  note: string;
}

/** clis-wrapper's booleans: true, 1, yes, on (any case); anything else is false */
const clisWrapperTrue = (v: string) => ['true', '1', 'yes', 'on'].includes(v.trim().toLowerCase());

/** a per-minute rate limit: a whole number of at least 1 */
const perMinute = (v: string) => {
  const t = v.trim();
  if (!/^\d+$/.test(t) || Number(t) < 1) throw new Error(`'${v}' is not a number of requests per minute (a whole number, at least 1)`);
  return t;
};

const debugLogging = (v: string) => (clisWrapperTrue(v) ? 'debug' : undefined);

export const LEGACY_ENV: Readonly<Record<string, LegacyVariable>> = {
  RATE_LIMIT_PER_MINUTE: {
    from: 'clis-wrapper',
    cligate: 'RATE_LIMIT_MODELS_PER_MINUTE',
    transform: perMinute,
    note: "clis-wrapper's general limit (for endpoints without one of their own; its code applied it to none): cligate's limit for the model lists and other reads (/v1/models*, /v1beta/models*, /account-limits, /image/*, stored responses)",
  },
  RATE_LIMIT_DEBUG_PER_MINUTE: {
    from: 'clis-wrapper',
    cligate: 'RATE_LIMIT_DEBUG_PER_MINUTE',
    note: 'the same name in cligate: the limit of /v1/debug/request, which cligate serves only while LOG_LEVEL is debug or trace',
  },
  RATE_LIMIT_AUTH_PER_MINUTE: {
    from: 'clis-wrapper',
    cligate: 'RATE_LIMIT_AUTH_STATUS_PER_MINUTE',
    transform: perMinute,
    note: 'the limit of GET /v1/auth/status in both (not the admin login limit, RATE_LIMIT_ADMIN_LOGIN_PER_MINUTE)',
  },
  RATE_LIMIT_SESSION_PER_MINUTE: {
    from: 'clis-wrapper',
    note: "no equivalent, ignored: it was meant for clis-wrapper's /v1/sessions endpoints (never applied to them; the endpoints were removed in Aug 2025). cligate has no session endpoints: each request carries its whole conversation",
  },
  DEBUG_MODE: {
    from: 'clis-wrapper',
    cligate: 'LOG_LEVEL',
    transform: debugLogging,
    note: "true: LOG_LEVEL=debug, which also serves /v1/debug/request. clis-wrapper also logged every request's headers and body; cligate logs neither (credentials, images): POST /v1/debug/request shows what it decoded",
  },
  VERBOSE: {
    from: 'clis-wrapper',
    cligate: 'LOG_LEVEL',
    transform: debugLogging,
    note: 'true: LOG_LEVEL=debug (clis-wrapper treated VERBOSE exactly as DEBUG_MODE)',
  },
  SHOW_PROGRESS_MARKERS: {
    from: 'clis-wrapper',
    note: 'no equivalent, ignored: progress markers are asked for per request with a "-progress" (or "-chat-progress") model name, as clis-wrapper itself did after it dropped this variable (Aug 2025); without one, no markers are sent',
  },
  PROGRESS_STYLE: {
    from: 'clis-wrapper',
    note: "no equivalent, ignored: clis-wrapper documented it but never read it. Its markers, ⏳ then ◐ ◓ ◑ ◒ with dots, are the ones cligate sends; their spacing is PROGRESS_INTERVAL and PROGRESS_MAX_INTERVAL",
  },
  CHAT_MODE_CLEANUP_SESSIONS: {
    from: 'clis-wrapper',
    cligate: 'CLEANUP_SESSIONS',
    transform: (v) => (clisWrapperTrue(v) ? 'true' : 'false'),
    note: "the name clis-wrapper's code read for CLEANUP_SESSIONS: removing the CLIs' session files of its sandboxes",
  },
  CHAT_MODE_CLEANUP_DELAY_MINUTES: {
    from: 'clis-wrapper',
    cligate: 'CLEANUP_DELAY_MINUTES',
    transform: (v) => {
      if (!(Number(v.trim()) >= 0) || v.trim() === '') throw new Error(`'${v}' is not a number of minutes (0 or more)`);
      return v.trim();
    },
    note: "the name clis-wrapper's code read for CLEANUP_DELAY_MINUTES: minutes before the CLIs' session files are removed",
  },
  SKIP_CLI_VERIFICATION: {
    from: 'clis-wrapper',
    note: 'no equivalent, ignored: cligate runs no CLI at start; each CLI is probed when first needed (GET /v1/auth/status, /v1/models) and the answer is cached',
  },
  VPN_PROXY_URL: {
    from: 'Kiro gateway',
    cligate: 'UPSTREAM_PROXY',
    // as Kiro gateway read it: a bare host:port is an http:// proxy
    transform: (v) => {
      const url = v.trim().includes('://') ? v.trim() : `http://${v.trim()}`;
      if (!isProxyUrl(url)) throw new Error('an http(s)://, socks5(h):// or socks4(a):// proxy URL, or host:port');
      return url;
    },
    shown: maskProxy,
    note: "Kiro gateway's one proxy for its upstream traffic: UPSTREAM_PROXY is the default proxy of every account-pool request (Kiro, Cloud Code, Gemini Enterprise); an account's own proxy, then the store's, win",
  },
  PROXY_API_KEY: {
    from: 'Kiro gateway',
    cligate: 'API_KEY',
    shown: maskSecret,
    note: 'the key clients send (Authorization: Bearer, or x-api-key), as there. Unlike Kiro gateway, an unset key leaves the API open (with a warning), it is no built-in default password',
  },
  SERVER_HOST: {
    from: 'Kiro gateway',
    cligate: 'HOST',
    note: 'the listen address',
  },
  SERVER_PORT: {
    from: 'Kiro gateway',
    cligate: 'PORT',
    note: 'the listen port (8000 in both by default)',
  },
  WEBUI_PASSWORD: {
    from: 'antigravity-claude-proxy',
    cligate: 'ADMIN_PASSWORD',
    shown: maskSecret,
    note: "the dashboard password: cligate's console is at /admin/ and is off while ADMIN_PASSWORD is empty",
  },
  ADMIN_KEY: {
    from: 'gemini-business2api',
    cligate: 'ADMIN_PASSWORD',
    shown: maskSecret,
    note: "the admin panel's key: cligate's console is at /admin/; the API key for /v1 is API_KEY, apart from it",
  },
};

export interface LegacyNotice {
  legacy: string;
  from: string;
  /** the cligate variable, when there is one */
  cligate?: string;
  /** what happened: set (the cligate variable now has `value`), overridden (the cligate variable was set and wins), nothing (no equivalent, or nothing to set for this value) */
  outcome: 'set' | 'overridden' | 'nothing';
  value?: string;
  note: string;
}

/** a variable counts as set when it is not empty (loadConfig reads an empty value as the default) */
const isSet = (v: string | undefined): v is string => v !== undefined && v !== '';

/**
 * The environment with each legacy name present read into its cligate variable (the input is
 * not changed), and one notice per legacy name present. Throws "Invalid configuration" naming
 * each legacy variable whose value cannot be used.
 */
export function applyLegacyEnv(env: Record<string, string | undefined>): { env: Record<string, string | undefined>; notices: LegacyNotice[] } {
  const out = { ...env };
  const notices: LegacyNotice[] = [];
  const errors: string[] = [];
  for (const [legacy, m] of Object.entries(LEGACY_ENV)) {
    const raw = env[legacy];
    if (!isSet(raw)) continue;
    const base = { legacy, from: m.from, ...(m.cligate ? { cligate: m.cligate } : {}), note: m.note };
    if (!m.cligate) {
      notices.push({ ...base, outcome: 'nothing' });
      continue;
    }
    let value: string | undefined;
    try {
      value = m.transform ? m.transform(raw) : raw;
    } catch (err) {
      errors.push(`  ${legacy} (${m.from}'s name for ${m.cligate}): ${(err as Error).message}`);
      continue;
    }
    if (m.cligate === legacy) {
      notices.push({ ...base, outcome: 'set', value: m.shown ? m.shown(raw) : raw });
      if (value !== undefined) out[legacy] = value;
    } else if (isSet(env[m.cligate])) {
      notices.push({ ...base, outcome: 'overridden', value: m.shown ? m.shown(env[m.cligate]!) : env[m.cligate] });
    } else if (value === undefined) {
      notices.push({ ...base, outcome: 'nothing' });
    } else {
      // two legacy names for one variable (DEBUG_MODE and VERBOSE): the first that sets it
      if (!isSet(out[m.cligate])) out[m.cligate] = value;
      notices.push({ ...base, outcome: 'set', value: m.shown ? m.shown(out[m.cligate]!) : out[m.cligate] });
    }
  }
  if (errors.length) throw new Error(`Invalid configuration:\n${errors.join('\n')}`);
  return { env: out, notices };
}

/** the notice's message: which name, what cligate does with it */
export function noticeMessage(n: LegacyNotice): string {
  const head = `${n.legacy} is ${n.from}'s name`;
  switch (n.outcome) {
    case 'set':
      return n.cligate === n.legacy
        ? `${head}; cligate reads it as is: ${n.note}`
        : `${head}; read as ${n.cligate}=${n.value}: ${n.note}`;
    case 'overridden':
      return `${head}; ignored because ${n.cligate} is set (${n.cligate}=${n.value} wins): ${n.note}`;
    default:
      return n.cligate ? `${head}; its value sets nothing (${n.cligate} keeps its own value): ${n.note}` : `${head}; ${n.note}`;
  }
}

/** one structured line per legacy name present: info when cligate acts on it, warn when it has no effect */
export function logLegacyNotices(log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void }, notices: readonly LegacyNotice[]): void {
  for (const n of notices) {
    const fields = { legacyEnv: n.legacy, from: n.from, cligate: n.cligate ?? null, outcome: n.outcome };
    if (n.outcome === 'set') log.info(fields, noticeMessage(n));
    else log.warn(fields, noticeMessage(n));
  }
}
