/**
 * What `cligate doctor` (and the start-up table) knows: every provider as the server builds it
 * (registry.ts, from the same configuration), probed the way the admin console's overview probes
 * it (status-view.ts: a CLI's `--version` and credential files, a pool's accounts), plus where
 * state and logs live and how the server is reached and protected. Nothing is started: no HTTP
 * server, no CLI beyond `--version`, no account request; nothing is written (an account store
 * that does not exist yet is read as empty).
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../config.js';
import type { Provider } from '../core/provider.js';
import { AccountStore } from '../accounts/store.js';
import { keyRefusal } from '../keys/key.js';
import { ImageCache } from '../features/image-cache.js';
import { createProviders } from '../providers/registry.js';
import { PROVIDER_ID as CLOUDCODE } from '../providers/cloudcode/index.js';
import { providerViews, type ProviderView } from '../providers/status-view.js';
import { WorkerPool } from '../runtime/pool.js';
import { DEFAULT_TEMPLATE_DIR } from '../runtime/sandbox.js';
import { PACKAGE_ROOT, packageVersion } from '../package.js';

export interface DoctorReport {
  cligate: { version: string; root: string; node: string };
  providers: ProviderView[];
  /** ids of the providers that could answer a request now */
  ready: string[];
  /** the models something could serve now (the ready providers' lists) */
  servable: string[];
  server: {
    host: string;
    port: number;
    /** the URL a client on this machine uses */
    url: string;
    apiKey: boolean;
    adminPassword: boolean;
    /** client keys in the store (read by `cligate doctor`; not at start-up, which does not read the store again) */
    clientKeys?: { total: number; usable: number };
  };
  state: {
    dataDir: string;
    accounts: { file: string; exists: boolean; error?: string };
    usage: string;
    images: string;
    stateDir: string;
    sandboxTemplate: string;
    envFile: { file: string; exists: boolean };
  };
  logs: { to: string; format: string; level: string };
  /** what to do next, most useful first */
  next: string[];
}

export interface DoctorInput {
  config: Config;
  /** the server's environment (the CLIs' PATH and credential variables come from it) */
  env: NodeJS.ProcessEnv;
  /** the working directory (.env and a relative DATA_DIR are read from it) */
  cwd?: string;
  /** the port actually listened on, when known (start-up) */
  port?: number;
  /** the running server's providers (start-up): probed as they are, none built, the store not read again */
  providers?: readonly Provider[];
}

/** the account store as it is on disk, without creating or changing anything */
async function openStore(dataDir: string): Promise<{ store: AccountStore; file: string; exists: boolean; error?: string }> {
  const file = path.join(dataDir, 'accounts.json');
  if (!existsSync(file)) return { store: AccountStore.memory(), file, exists: false };
  try {
    return { store: await AccountStore.open(dataDir), file, exists: true };
  } catch (err) {
    return { store: AccountStore.memory(), file, exists: true, error: (err as Error).message };
  }
}

/** the providers the server would build from this configuration, with nothing running */
function buildProviders(config: Config, env: NodeJS.ProcessEnv, store: AccountStore, dataDir: string): Provider[] {
  // a pool nothing is queued on: it starts nothing until a request, and the doctor makes none
  const pool = new WorkerPool({ concurrency: 1, queueLimit: 0, queueTimeoutMs: 1 });
  const runtime = { pool, templateDir: config.SANDBOX_TEMPLATE_DIR || DEFAULT_TEMPLATE_DIR, timeoutMs: config.MAX_TIMEOUT };
  // not started: its folder is made by start(), which the doctor never calls
  const images = new ImageCache(path.join(dataDir, 'images'), config.IMAGE_CACHE_TTL_MINUTES * 60_000);
  return createProviders(config, runtime, env, { store, images });
}

function clientUrl(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${h.includes(':') ? `[${h}]` : h}:${port}`;
}

/** the one next step for a user with nothing that answers: log in what is installed, else install one */
function nothingAnswers(views: readonly ProviderView[]): string {
  const loginFirst = views.filter((v) => v.cli?.installed && v.cli.loggedIn === false && v.fix);
  const cli = loginFirst.length
    ? `log in to a CLI (${loginFirst.map((v) => `${v.id}: \`${v.fix}\``).join('; ')})`
    : 'install and log in to a CLI (e.g. `npm install -g @anthropic-ai/claude-code`, then `claude` and /login)';
  return (
    `nothing can answer yet: ${cli}, ` +
    'or point OPENAI_COMPATIBLE_BASE_URL at a local OpenAI-compatible server ' +
    '(Ollama: `ollama serve` and `ollama pull llama3.2`, then OPENAI_COMPATIBLE_BASE_URL=http://127.0.0.1:11434/v1 OPENAI_COMPATIBLE_MODELS=llama3.2 in .env), ' +
    'then run the doctor again'
  );
}

function nextSteps(r: Omit<DoctorReport, 'next'>): string[] {
  const out: string[] = [];
  if (r.state.accounts.error) out.push(`fix the account store: ${r.state.accounts.error}`);
  if (!r.ready.length) out.push(nothingAnswers(r.providers));
  else {
    const model = r.servable[0];
    const auth = r.server.apiKey ? ` -H "authorization: Bearer $API_KEY"` : '';
    out.push(`${r.ready.join(', ')} can answer: try \`curl ${r.server.url}/v1/chat/completions${auth} -H 'content-type: application/json' -d '{"model":"${model}","messages":[{"role":"user","content":"Hello"}]}'\``);
  }
  if (!r.server.apiKey && !r.server.clientKeys?.total && r.server.host !== '127.0.0.1' && r.server.host !== 'localhost' && r.server.host !== '::1') {
    out.push(`the API is open to anyone who can reach port ${r.server.port} on ${r.server.host}: set API_KEY, or HOST=127.0.0.1`);
  }
  return out;
}

export async function buildReport(input: DoctorInput): Promise<DoctorReport> {
  const { config, env } = input;
  const cwd = input.cwd ?? process.cwd();
  const dataDir = path.resolve(cwd, config.DATA_DIR);
  const viewOptions = { oauthClient: { [CLOUDCODE]: Boolean(config.CLOUDCODE_OAUTH_CLIENT_ID && config.CLOUDCODE_OAUTH_CLIENT_SECRET) } };
  let accounts: DoctorReport['state']['accounts'];
  let views: ProviderView[];
  let clientKeys: DoctorReport['server']['clientKeys'];
  if (input.providers) {
    const file = path.join(dataDir, 'accounts.json');
    accounts = { file, exists: existsSync(file) };
    views = await providerViews(input.providers, undefined, viewOptions);
  } else {
    const opened = await openStore(dataDir);
    accounts = { file: opened.file, exists: opened.exists, ...(opened.error ? { error: opened.error } : {}) };
    clientKeys = { total: opened.store.keys.length, usable: opened.store.keys.filter((k) => !keyRefusal(k)).length };
    const providers = buildProviders(config, env, opened.store, dataDir);
    try {
      views = await providerViews(providers, undefined, viewOptions);
    } finally {
      // Kiro's background refresh timer and the like: nothing outlives the report
      await Promise.all(providers.map((p) => p.close?.()));
    }
  }
  const ready = views.filter((v) => v.ready).map((v) => v.id);
  const port = input.port ?? config.PORT;
  const report: Omit<DoctorReport, 'next'> = {
    cligate: { version: packageVersion(), root: PACKAGE_ROOT, node: process.version },
    providers: views,
    ready,
    servable: [...new Set(views.filter((v) => v.ready).flatMap((v) => v.models))],
    server: { host: config.HOST, port, url: clientUrl(config.HOST, port), apiKey: config.API_KEY !== '', adminPassword: config.ADMIN_PASSWORD !== '', ...(clientKeys ? { clientKeys } : {}) },
    state: {
      dataDir,
      accounts,
      usage: path.join(dataDir, 'usage'),
      images: path.join(dataDir, 'images'),
      stateDir: path.resolve(cwd, config.STATE_DIR || path.join(env.HOME ?? os.homedir(), '.cligate')),
      sandboxTemplate: path.resolve(cwd, config.SANDBOX_TEMPLATE_DIR || DEFAULT_TEMPLATE_DIR),
      envFile: { file: path.join(cwd, '.env'), exists: existsSync(path.join(cwd, '.env')) },
    },
    logs: {
      to: 'standard output (redirect it, or read it with journalctl / docker logs)',
      format: { json: 'JSON lines (LOG_FORMAT=json)', pretty: 'readable lines (LOG_FORMAT=pretty)', auto: 'readable lines on a terminal, JSON lines otherwise' }[config.LOG_FORMAT],
      level: config.LOG_LEVEL,
    },
  };
  return { ...report, next: nextSteps(report) };
}

/** the exit code of `cligate doctor`: 0 when something can answer, 1 when nothing can */
export function exitCodeOf(r: DoctorReport): number {
  return r.ready.length ? 0 : 1;
}
