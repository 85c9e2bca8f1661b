/** /v1/models lists what is installed and logged in (with -progress variants); /v1/auth/status says why a CLI is missing. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type TestStack } from '../helpers/server.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ QWEN_CLI_PATH: '/nonexistent/qwen' });
});
afterAll(async () => stack?.close());

describe('discovery', () => {
  it('lists installed CLIs’ models, bare, qualified and -progress; leaves a missing CLI out', async () => {
    const ids = ((await (await fetch(`${stack.url}/v1/models`)).json()) as { data: { id: string }[] }).data.map((m) => m.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        'claude-opus-4-8',
        'claude-opus-4-8-progress',
        'claude-cli/claude-opus-4-8',
        'claude-cli/claude-opus-4-8-progress',
        'gemini-3.5-flash',
        'gemini-cli/gemini-3.5-flash-progress',
      ]),
    );
    expect(ids.filter((id) => id.startsWith('qwen'))).toEqual([]);
  });

  it('auth status: found with version and how it is authenticated; or why not', async () => {
    const body = (await (await fetch(`${stack.url}/v1/auth/status`)).json()) as {
      providers: { id: string; available: boolean; detail: Record<string, unknown> }[];
    };
    const byId = Object.fromEntries(body.providers.map((p) => [p.id, p]));
    expect(byId['claude-cli']).toMatchObject({ available: true, detail: { installed: true, loggedIn: true, auth: 'environment variable ANTHROPIC_API_KEY' } });
    expect(String(byId['claude-cli']?.detail.version)).toMatch(/\d+\.\d+\.\d+/);
    expect(byId['gemini-cli']).toMatchObject({ available: true, detail: { loggedIn: true, auth: 'environment variable GEMINI_API_KEY' } });
    expect(byId['qwen-cli']).toMatchObject({ available: false, detail: { installed: false } });
    expect(String(byId['qwen-cli']?.detail.reason)).toMatch(/not found/);
  });
});

describe('probeCli', () => {
  it('an installed CLI without credentials is "not logged in", naming what was checked and how to log in', async () => {
    const { probeCli } = await import('../../src/runtime/cli-status.js');
    const { CLAUDE_BIN } = await import('../helpers/claude-env.js');
    const s = await probeCli({
      id: 'claude-cli',
      cliPath: CLAUDE_BIN,
      env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent-home' },
      credentials: { env: ['ANTHROPIC_API_KEY'], homeFiles: ['.claude/.credentials.json'], login: 'claude, then /login' },
    });
    expect(s).toMatchObject({ available: true, detail: { installed: true, loggedIn: false } });
    expect(String(s.detail.reason)).toMatch(/not logged in: none of ANTHROPIC_API_KEY, ~\/\.claude\/\.credentials\.json found; run `claude, then \/login`/);
  });
});
