/**
 * clis-wrapper's environment names (src/legacy-env.ts): each read into cligate's variable, a
 * cligate variable that is set wins, names without an equivalent change nothing, and each name
 * present gets exactly one notice.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { applyLegacyEnv, LEGACY_ENV, logLegacyNotices, noticeMessage } from '../../src/legacy-env.js';

/** the Config loadConfig makes of an environment after the legacy names are applied, as main.ts does */
const load = (env: Record<string, string>) => loadConfig(applyLegacyEnv(env).env);

describe('clis-wrapper environment names', () => {
  it.each([
    ['RATE_LIMIT_PER_MINUTE', '7', 'RATE_LIMIT_MODELS_PER_MINUTE', 7],
    ['RATE_LIMIT_AUTH_PER_MINUTE', '3', 'RATE_LIMIT_AUTH_STATUS_PER_MINUTE', 3],
    ['RATE_LIMIT_DEBUG_PER_MINUTE', '2', 'RATE_LIMIT_DEBUG_PER_MINUTE', 2],
    ['DEBUG_MODE', 'true', 'LOG_LEVEL', 'debug'],
    ['DEBUG_MODE', 'On', 'LOG_LEVEL', 'debug'],
    ['VERBOSE', '1', 'LOG_LEVEL', 'debug'],
    ['CHAT_MODE_CLEANUP_SESSIONS', 'false', 'CLEANUP_SESSIONS', false],
    ['CHAT_MODE_CLEANUP_DELAY_MINUTES', '5', 'CLEANUP_DELAY_MINUTES', 5],
  ] as const)('%s=%s sets %s', (legacy, value, cligate, expected) => {
    const before = loadConfig({})[cligate];
    expect(before).not.toEqual(expected); // the default is not what the legacy name asks for
    expect(load({ [legacy]: value })[cligate]).toEqual(expected);
  });

  it('a cligate variable that is set wins over the legacy name; an empty one does not', () => {
    expect(load({ RATE_LIMIT_PER_MINUTE: '7', RATE_LIMIT_MODELS_PER_MINUTE: '9' }).RATE_LIMIT_MODELS_PER_MINUTE).toBe(9);
    expect(load({ RATE_LIMIT_AUTH_PER_MINUTE: '3', RATE_LIMIT_AUTH_STATUS_PER_MINUTE: '4' }).RATE_LIMIT_AUTH_STATUS_PER_MINUTE).toBe(4);
    expect(load({ DEBUG_MODE: 'true', LOG_LEVEL: 'warn' }).LOG_LEVEL).toBe('warn');
    expect(load({ DEBUG_MODE: 'true', LOG_LEVEL: '' }).LOG_LEVEL).toBe('debug');
    const { notices } = applyLegacyEnv({ DEBUG_MODE: 'true', LOG_LEVEL: 'warn' });
    expect(notices).toEqual([expect.objectContaining({ legacy: 'DEBUG_MODE', cligate: 'LOG_LEVEL', outcome: 'overridden', value: 'warn' })]);
    expect(noticeMessage(notices[0]!)).toMatch(/^DEBUG_MODE is clis-wrapper's name; ignored because LOG_LEVEL is set \(LOG_LEVEL=warn wins\)/);
  });

  it('DEBUG_MODE=false / VERBOSE=no leave LOG_LEVEL alone; either true turns debug on', () => {
    expect(load({ DEBUG_MODE: 'false', VERBOSE: 'no' }).LOG_LEVEL).toBe('info');
    expect(load({ DEBUG_MODE: 'false', VERBOSE: 'yes' }).LOG_LEVEL).toBe('debug');
    expect(applyLegacyEnv({ DEBUG_MODE: 'false' }).notices).toEqual([expect.objectContaining({ legacy: 'DEBUG_MODE', outcome: 'nothing' })]);
  });

  it('names without an equivalent change no setting and say so', () => {
    const env = { RATE_LIMIT_SESSION_PER_MINUTE: '15', SHOW_PROGRESS_MARKERS: 'true', PROGRESS_STYLE: 'spinner', SKIP_CLI_VERIFICATION: 'true' };
    const { env: out, notices } = applyLegacyEnv(env);
    expect(out).toEqual(env);
    expect(load(env)).toEqual(loadConfig({}));
    expect(notices.map((n) => [n.legacy, n.outcome, n.cligate])).toEqual([
      ['RATE_LIMIT_SESSION_PER_MINUTE', 'nothing', undefined],
      ['SHOW_PROGRESS_MARKERS', 'nothing', undefined],
      ['PROGRESS_STYLE', 'nothing', undefined],
      ['SKIP_CLI_VERIFICATION', 'nothing', undefined],
    ]);
    for (const n of notices) expect(noticeMessage(n)).toMatch(new RegExp(`^${n.legacy} is clis-wrapper's name; no equivalent, ignored`));
    expect(noticeMessage(notices[1]!)).toContain('"-progress" (or "-chat-progress") model name');
    expect(noticeMessage(notices[2]!)).toContain('PROGRESS_INTERVAL');
  });

  it('one notice per legacy name present, none without; one log line each', () => {
    expect(applyLegacyEnv({ PORT: '8000', CORS_ORIGINS: '*' }).notices).toEqual([]);
    const all = Object.fromEntries(Object.keys(LEGACY_ENV).map((k) => [k, k.includes('MINUTE') ? '5' : 'true']));
    const { notices } = applyLegacyEnv(all);
    expect(notices.map((n) => n.legacy)).toEqual(Object.keys(LEGACY_ENV));
    const lines: { level: string; fields: Record<string, unknown>; msg: string }[] = [];
    logLegacyNotices({ info: (fields, msg) => lines.push({ level: 'info', fields: fields as Record<string, unknown>, msg }), warn: (fields, msg) => lines.push({ level: 'warn', fields: fields as Record<string, unknown>, msg }) }, notices);
    expect(lines).toHaveLength(Object.keys(LEGACY_ENV).length);
    expect(lines.find((l) => l.fields.legacyEnv === 'RATE_LIMIT_PER_MINUTE')).toMatchObject({ level: 'info', fields: { cligate: 'RATE_LIMIT_MODELS_PER_MINUTE', outcome: 'set' }, msg: expect.stringMatching(/read as RATE_LIMIT_MODELS_PER_MINUTE=5/) });
    expect(lines.find((l) => l.fields.legacyEnv === 'PROGRESS_STYLE')).toMatchObject({ level: 'warn', fields: { cligate: null, outcome: 'nothing' } });
  });

  it('a value cligate cannot use stops start-up naming the legacy variable', () => {
    expect(() => applyLegacyEnv({ RATE_LIMIT_PER_MINUTE: 'lots', CHAT_MODE_CLEANUP_DELAY_MINUTES: '-1' })).toThrow(
      /^Invalid configuration:\n {2}RATE_LIMIT_PER_MINUTE \(clis-wrapper's name for RATE_LIMIT_MODELS_PER_MINUTE\): 'lots' is not a number[^\n]*\n {2}CHAT_MODE_CLEANUP_DELAY_MINUTES /,
    );
    expect(() => applyLegacyEnv({ RATE_LIMIT_AUTH_PER_MINUTE: '0' })).toThrow(/RATE_LIMIT_AUTH_PER_MINUTE .*at least 1/);
  });

  it('does not change the environment it is given', () => {
    const env = { RATE_LIMIT_PER_MINUTE: '7' };
    applyLegacyEnv(env);
    expect(env).toEqual({ RATE_LIMIT_PER_MINUTE: '7' });
  });
});

describe('CORS_ORIGINS', () => {
  it.each([
    ['["*"]', ['*']],
    ['["http://a","http://b"]', ['http://a', 'http://b']],
    [' [ "http://a" , " http://b " ] ', ['http://a', 'http://b']],
    ['http://a, http://b', ['http://a', 'http://b']],
    ['*', ['*']],
  ])('%s', (value, origins) => {
    expect(loadConfig({ CORS_ORIGINS: value }).CORS_ORIGINS).toEqual(origins);
  });

  it('a JSON list that is not a list of strings is refused, naming the variable', () => {
    expect(() => loadConfig({ CORS_ORIGINS: '["http://a", 3]' })).toThrow(/^ {2}CORS_ORIGINS: a comma-separated list, or a JSON list/m);
    expect(() => loadConfig({ CORS_ORIGINS: '["http://a"' })).toThrow(/CORS_ORIGINS/);
  });
});

describe('RATE_LIMIT_DEBUG_PER_MINUTE', () => {
  it('has a default', () => {
    expect(loadConfig({}).RATE_LIMIT_DEBUG_PER_MINUTE).toBe(30);
  });
});
