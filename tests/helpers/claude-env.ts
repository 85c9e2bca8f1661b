/** A throwaway HOME and the environment that makes the real claude CLI talk only to a fake. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const CLAUDE_BIN = path.join(ROOT, 'node_modules', '.bin', 'claude');
export const GEMINI_BIN = path.join(ROOT, 'node_modules', '.bin', 'gemini');
// the package's own entry: node_modules/.bin/qwen may be the newer release installed beside it (QWEN_LATEST_BIN)
export const QWEN_BIN = path.join(ROOT, 'node_modules', '@qwen-code', 'qwen-code', 'cli.js');
/** Qwen Code's current release, a devDependency under the alias qwen-code-latest (a client in the e2e tests) */
export const QWEN_LATEST_BIN = path.join(ROOT, 'node_modules', 'qwen-code-latest', 'cli-entry.js');
export const CODEX_BIN = path.join(ROOT, 'node_modules', '.bin', 'codex');

/** What makes the real Codex use a Responses-API fake: a model provider in ~/.codex/config.toml, and a key. */
export async function codexTestEnv(home: string, fakeUrl: string): Promise<Record<string, string>> {
  await mkdir(path.join(home, '.codex'), { recursive: true });
  const config = [
    'model_provider = "fake"',
    '[model_providers.fake]',
    'name = "fake"',
    `base_url = "${fakeUrl}/v1"`,
    'wire_api = "responses"',
    'env_key = "OPENAI_API_KEY"',
    'request_max_retries = 0',
    'stream_max_retries = 0',
  ].join('\n');
  await writeFile(path.join(home, '.codex', 'config.toml'), `${config}\n`);
  return { OPENAI_API_KEY: 'test' };
}

/** What makes the real Qwen Code use an OpenAI-compatible fake: auth type in HOME and three variables. */
export async function qwenTestEnv(home: string, fakeUrl: string): Promise<Record<string, string>> {
  await mkdir(path.join(home, '.qwen'), { recursive: true });
  await writeFile(path.join(home, '.qwen', 'settings.json'), JSON.stringify({ security: { auth: { selectedType: 'openai' } } }));
  return { OPENAI_API_KEY: 'test', OPENAI_BASE_URL: `${fakeUrl}/v1`, OPENAI_MODEL: 'qwen3-coder-plus' };
}

/** What makes the real Gemini CLI use an API key against a fake: settings in HOME and two variables. */
export async function geminiTestEnv(home: string, fakeUrl: string): Promise<Record<string, string>> {
  await mkdir(path.join(home, '.gemini'), { recursive: true });
  await writeFile(path.join(home, '.gemini', 'settings.json'), JSON.stringify({ security: { auth: { selectedType: 'gemini-api-key' } } }));
  return { GEMINI_API_KEY: 'test', GOOGLE_GEMINI_BASE_URL: fakeUrl };
}

export async function claudeTestEnv(fakeUrl: string): Promise<{ env: Record<string, string>; home: string; cleanup(): Promise<void> }> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'cligate-test-home-'));
  const env: Record<string, string> = {
    HOME: home,
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ANTHROPIC_BASE_URL: fakeUrl,
    ANTHROPIC_API_KEY: 'test',
    // without it claude 2.1.197 opens ~6 connections to api.anthropic.com:443 per run; with it, only the fake
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    // otherwise 429 and 5xx are retried up to 10 times (429 waits retry-after, 5xx backs off from ~0.5 s)
    CLAUDE_CODE_MAX_RETRIES: '0',
  };
  // retries: a CLI killed a moment ago may still be flushing files into its HOME
  return { env, home, cleanup: () => rm(home, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 }) };
}
