/** The claude invocation: what makes it chat-only and keeps its stream honest. */
import { describe, expect, it } from 'vitest';
import { claudeArgs, claudeEnv } from '../../../src/providers/claude/client.js';

describe('claude invocation', () => {
  it('offers and allows exactly the allowed tools (the sandbox allow list is ignored in -p mode)', () => {
    const args = claudeArgs({ model: 'claude-sonnet-4-5', allowedTools: ['WebSearch', 'WebFetch'] });
    expect(args[args.indexOf('--tools') + 1]).toBe('WebSearch,WebFetch');
    expect(args[args.indexOf('--allowedTools') + 1]).toBe('WebSearch,WebFetch');
    expect(args).toEqual(expect.arrayContaining(['--permission-mode', 'dontAsk', '--setting-sources', 'project', '--strict-mcp-config']));
    // the prompt goes on stdin: nothing may follow a variadic flag as a stray argument
    expect(args.some((a) => !a.startsWith('-') && !['stream-json', 'claude-sonnet-4-5', 'WebSearch,WebFetch', 'dontAsk', 'project'].includes(a))).toBe(false);
  });

  it('with no tools: --tools "" and no --allowedTools', () => {
    const args = claudeArgs({ model: 'm', allowedTools: [] });
    expect(args[args.indexOf('--tools') + 1]).toBe('');
    expect(args).not.toContain('--allowedTools');
  });

  it('the system prompt replaces the default one', () => {
    const args = claudeArgs({ model: 'm', system: 'Be brief.', allowedTools: [] });
    expect(args[args.indexOf('--system-prompt') + 1]).toBe('Be brief.');
  });

  it('env: no non-streaming fallback (it would repeat text), no auto-memory, no side traffic; user variables pass, host ones do not', () => {
    const env = claudeEnv({ HOME: '/h', PATH: '/bin', ANTHROPIC_API_KEY: 'k', PWD: '/secret/place', GITHUB_TOKEN: 'x' });
    expect(env).toMatchObject({
      HOME: '/h',
      ANTHROPIC_API_KEY: 'k',
      CLAUDE_CODE_DISABLE_NONSTREAMING_FALLBACK: '1',
      CLAUDE_CODE_DISABLE_AUTO_MEMORY: '1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    });
    expect(env.PWD).toBeUndefined();
    expect(env.GITHUB_TOKEN).toBeUndefined();
  });
});
