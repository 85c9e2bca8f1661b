/** childEnv: the CLI child sees only what it needs of the server's environment. */
import { describe, expect, it } from 'vitest';
import { childEnv } from '../../src/runtime/env.js';

const source: NodeJS.ProcessEnv = {
  HOME: '/home/u',
  PATH: '/usr/bin:/bin',
  LANG: 'en_US.UTF-8',
  LANGUAGE: 'en',
  LC_ALL: 'C.UTF-8',
  LC_CTYPE: 'UTF-8',
  USER: 'u',
  TZ: 'UTC',
  ANTHROPIC_API_KEY: 'sk-ant',
  ANTHROPIC_BASE_URL: 'http://127.0.0.1:9',
  CLAUDE_CONFIG_DIR: '/home/u/.claude',
  // host details and unrelated secrets
  PWD: '/work/main',
  OLDPWD: '/work',
  INIT_CWD: '/work/main',
  npm_config_cache: '/home/u/.npm',
  npm_lifecycle_event: 'test',
  npm_package_name: 'cligate',
  GITHUB_TOKEN: 'ghp_secret',
  AWS_SECRET_ACCESS_KEY: 'aws-secret',
  OPENAI_API_KEY: 'sk-openai',
  GEMINI_API_KEY: 'gemini-key',
  MY_ANTHROPIC_KEY: 'not-a-prefix-match',
  VSCODE_IPC_HOOK: '/tmp/vscode.sock',
  UNDEFINED_ONE: undefined,
};

describe('childEnv', () => {
  it('keeps the base variables and the given prefixes, and nothing else', () => {
    expect(childEnv(source, ['ANTHROPIC_', 'CLAUDE_'])).toEqual({
      HOME: '/home/u',
      PATH: '/usr/bin:/bin',
      LANG: 'en_US.UTF-8',
      LANGUAGE: 'en',
      LC_ALL: 'C.UTF-8',
      LC_CTYPE: 'UTF-8',
      USER: 'u',
      TZ: 'UTC',
      ANTHROPIC_API_KEY: 'sk-ant',
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:9',
      CLAUDE_CONFIG_DIR: '/home/u/.claude',
    });
  });

  it('drops PWD, OLDPWD, INIT_CWD, npm_* and unrelated secrets', () => {
    const env = childEnv(source, ['ANTHROPIC_', 'CLAUDE_']);
    for (const name of [
      'PWD',
      'OLDPWD',
      'INIT_CWD',
      'npm_config_cache',
      'npm_lifecycle_event',
      'npm_package_name',
      'GITHUB_TOKEN',
      'AWS_SECRET_ACCESS_KEY',
      'OPENAI_API_KEY',
      'GEMINI_API_KEY',
      'VSCODE_IPC_HOOK',
    ]) {
      expect(env, name).not.toHaveProperty(name);
    }
  });

  it('matches prefixes at the start of the name only', () => {
    expect(childEnv(source, ['ANTHROPIC_'])).not.toHaveProperty('MY_ANTHROPIC_KEY');
  });

  it('passes a provider its own variables and not another provider’s', () => {
    const gemini = childEnv(source, ['GEMINI_']);
    expect(gemini.GEMINI_API_KEY).toBe('gemini-key');
    expect(gemini).not.toHaveProperty('ANTHROPIC_API_KEY');
    expect(gemini).not.toHaveProperty('CLAUDE_CONFIG_DIR');
  });

  it('with no prefixes keeps only the base variables', () => {
    const env = childEnv(source, []);
    expect(Object.keys(env).sort()).toEqual(['HOME', 'LANG', 'LANGUAGE', 'LC_ALL', 'LC_CTYPE', 'PATH', 'TZ', 'USER']);
  });

  it('skips undefined values', () => {
    const env = childEnv({ ...source, LC_MESSAGES: undefined }, ['UNDEFINED_']);
    expect(env).not.toHaveProperty('LC_MESSAGES');
    expect(env).not.toHaveProperty('UNDEFINED_ONE');
  });

  it('overrides win over the source and can add variables', () => {
    const env = childEnv(source, ['ANTHROPIC_'], {
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:4000',
      HOME: '/sandbox/home',
      DISABLE_TELEMETRY: '1',
    });
    expect(env.ANTHROPIC_BASE_URL).toBe('http://127.0.0.1:4000');
    expect(env.HOME).toBe('/sandbox/home');
    expect(env.DISABLE_TELEMETRY).toBe('1');
    expect(env.ANTHROPIC_API_KEY).toBe('sk-ant');
  });

  it('does not modify the source', () => {
    const copy = { ...source };
    childEnv(source, ['ANTHROPIC_'], { HOME: '/x' });
    expect(source).toEqual(copy);
  });
});
