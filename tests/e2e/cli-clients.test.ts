/**
 * Real vendor CLIs as clients of cligate: Claude Code on /v1/messages and Gemini CLI
 * on /v1beta, each answered by the claude provider (the real claude CLI) behind a
 * fake upstream. Two real CLIs in a row, no mocks in between.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startStack, type TestStack } from '../helpers/server.js';
import { CLAUDE_BIN, GEMINI_BIN } from '../helpers/claude-env.js';

let stack: TestStack;
let home: string;

beforeAll(async () => {
  stack = await startStack({ API_KEY: 'client-key' }, { reply: 'pong from the fake upstream' });
  home = await mkdtemp(path.join(os.tmpdir(), 'cligate-client-home-'));
});
afterAll(async () => {
  await stack?.close();
  await rm(home, { recursive: true, force: true });
});

const upstreamCalls = () => stack.fake.requests.filter((q) => q.path === '/v1/messages').length;

describe('real CLIs as clients', () => {
  it('Claude Code with ANTHROPIC_BASE_URL=cligate completes a prompt', async () => {
    const before = upstreamCalls();
    const r = await execa(CLAUDE_BIN, ['-p', 'hello', '--output-format', 'json', '--model', 'claude-sonnet-4-5', '--tools', ''], {
      env: {
        HOME: home,
        PATH: process.env.PATH ?? '',
        ANTHROPIC_BASE_URL: stack.url,
        ANTHROPIC_API_KEY: 'client-key',
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        DISABLE_AUTOUPDATER: '1',
        CLAUDE_CODE_MAX_RETRIES: '0',
      },
      extendEnv: false,
      input: '',
      cwd: home,
      timeout: 60_000,
      reject: false,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { is_error: boolean; result: string; usage: { output_tokens: number } };
    expect(result.is_error).toBe(false);
    expect(result.result).toBe('pong from the fake upstream');
    expect(result.usage.output_tokens).toBeGreaterThan(0);
    expect(upstreamCalls()).toBe(before + 1); // the inner CLI reached the fake once
  });

  it('Gemini CLI with GOOGLE_GEMINI_BASE_URL=cligate completes a prompt with a claude model', async () => {
    const ghome = path.join(home, 'gemini-home');
    await mkdir(path.join(ghome, '.gemini'), { recursive: true });
    await writeFile(path.join(ghome, '.gemini', 'settings.json'), JSON.stringify({ security: { auth: { selectedType: 'gemini-api-key' } } }));
    const before = upstreamCalls();
    const r = await execa(GEMINI_BIN, ['-p', 'hello', '-m', 'claude-sonnet-4-5', '-o', 'json'], {
      env: {
        HOME: ghome,
        PATH: process.env.PATH ?? '',
        GEMINI_API_KEY: 'client-key',
        GOOGLE_GEMINI_BASE_URL: stack.url,
        GEMINI_CLI_TRUST_WORKSPACE: 'true',
      },
      extendEnv: false,
      input: '',
      cwd: ghome,
      timeout: 90_000,
      reject: false,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { response: string; stats: { models: Record<string, { tokens: { candidates: number } }> } };
    expect(out.response).toBe('pong from the fake upstream');
    expect(out.stats.models['claude-sonnet-4-5']?.tokens.candidates).toBeGreaterThan(0);
    expect(upstreamCalls()).toBeGreaterThan(before);
  });
});
