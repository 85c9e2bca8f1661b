/**
 * Is a CLI installed, which version, and does it have credentials? One probe shared
 * by every CLI provider, cached (CLI start-up costs up to seconds). "Logged in" is
 * judged from what the CLI reads: its credential variables and files; the answer
 * names what was checked, so a "no" says what to do.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import type { ProviderStatus } from '../core/provider.js';
import { notFoundReason, resolveCliPath } from './cli-path.js';

export interface CredentialSources {
  /** variables any one of which is a credential */
  env: readonly string[];
  /** files under HOME any one of which is a login */
  homeFiles: readonly string[];
  /** the command that logs in, for the hint */
  login: string;
}

export interface CliStatusInput {
  id: string;
  /** the *_CLI_PATH value: a bare name is looked up on PATH without cligate's own node_modules/.bin */
  cliPath: string;
  env: Record<string, string>;
  credentials: CredentialSources;
}

export async function probeCli(input: CliStatusInput, signal?: AbortSignal): Promise<ProviderStatus> {
  const { id, env, credentials } = input;
  const resolved = resolveCliPath(input.cliPath, env);
  // the path reported is the one requests run: absolute when a bare name was found on PATH
  const cliPath = resolved.command;
  if (!resolved.found) return { id, available: false, detail: { path: cliPath, installed: false, reason: notFoundReason(resolved) } };
  let version: string;
  try {
    const runEnv = resolved.searched && resolved.pathEnv !== undefined ? { ...env, PATH: resolved.pathEnv } : env;
    const { stdout } = await execa(cliPath, ['--version'], { env: runEnv, extendEnv: false, timeout: 15_000, ...(signal ? { cancelSignal: signal } : {}) });
    version = stdout.trim().split('\n')[0] ?? '';
  } catch (err) {
    const e = err as { code?: string; shortMessage?: string; message?: string };
    const reason = e.code === 'ENOENT' ? notFoundReason(resolved) : `not usable: ${(e.shortMessage ?? e.message ?? String(err)).split('\n')[0]}`;
    return { id, available: false, detail: { path: cliPath, installed: false, reason } };
  }
  const fromEnv = credentials.env.find((name) => Boolean(env[name]));
  const home = env.HOME;
  const fromFile = home ? credentials.homeFiles.find((f) => existsSync(path.join(home, f))) : undefined;
  const auth = fromEnv ? `environment variable ${fromEnv}` : fromFile ? `login file ~/${fromFile}` : undefined;
  return {
    id,
    available: true,
    detail: {
      path: cliPath,
      installed: true,
      version,
      loggedIn: Boolean(auth),
      ...(auth
        ? { auth }
        : { reason: `not logged in: none of ${[...credentials.env, ...credentials.homeFiles.map((f) => `~/${f}`)].join(', ')} found; run \`${credentials.login}\`` }),
    },
  };
}

export type CachedProbe = (() => Promise<ProviderStatus>) & {
  /**
   * ends a probe still running and starts no more (the server is closing): a CLI's `--version`
   * may write to its HOME (the Gemini CLI creates ~/.gemini), which must not outlive the server
   */
  stop(): Promise<void>;
};

/** Caches one probe per provider for `ttlMs`. */
export function cachedProbe(input: CliStatusInput, ttlMs: number): CachedProbe {
  let cached: { at: number; value: Promise<ProviderStatus> } | undefined;
  const ctl = new AbortController();
  const probe = () => {
    if (ctl.signal.aborted) return Promise.resolve({ id: input.id, available: false, detail: { reason: 'the server is shutting down' } });
    if (!cached || Date.now() - cached.at > ttlMs) cached = { at: Date.now(), value: probeCli(input, ctl.signal) };
    return cached.value;
  };
  return Object.assign(probe, {
    async stop() {
      ctl.abort();
      await cached?.value.catch(() => undefined);
    },
  });
}
