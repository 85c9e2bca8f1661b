/**
 * LOG_FORMAT (src/log.ts) on stand-in outputs: which format a stream gets, and what a pretty line
 * holds. tests/server/log-format-process.test.ts runs the server itself on a pipe and a terminal.
 */
import { describe, expect, it } from 'vitest';
import { createLogger, formatEntry, isPretty } from '../../src/log.js';
import { loadConfig } from '../../src/config.js';

function output(tty: boolean, colors = false) {
  const lines: string[] = [];
  return {
    out: { isTTY: tty, ...(tty ? { hasColors: () => colors } : {}), write: (s: string) => void lines.push(...s.split('\n').filter(Boolean)) },
    lines,
  };
}

const REQUEST = {
  requestId: '0b1c',
  method: 'POST',
  path: '/v1/chat/completions',
  status: 200,
  durationMs: 1234,
  dialect: 'openai',
  model: 'claude-sonnet-4-5',
  provider: 'kiro',
  account: 'kiro-1',
  stream: true,
  tokensIn: 120,
  tokensOut: 45,
};

describe('LOG_FORMAT', () => {
  it('auto: pretty on a terminal, JSON on anything else and under NODE_ENV=production', () => {
    expect(isPretty('auto', { isTTY: true, write: () => 0 }, {})).toBe(true);
    expect(isPretty('auto', { isTTY: false, write: () => 0 }, {})).toBe(false);
    expect(isPretty('auto', { write: () => 0 }, {})).toBe(false);
    expect(isPretty('auto', { isTTY: true, write: () => 0 }, { NODE_ENV: 'production' })).toBe(false);
    expect(isPretty('json', { isTTY: true, write: () => 0 }, {})).toBe(false);
    expect(isPretty('pretty', { isTTY: false, write: () => 0 }, { NODE_ENV: 'production' })).toBe(true);
  });

  it('is a setting: auto by default, anything but auto|pretty|json refused', () => {
    expect(loadConfig({}).LOG_FORMAT).toBe('auto');
    expect(loadConfig({ LOG_FORMAT: 'json' }).LOG_FORMAT).toBe('json');
    expect(() => loadConfig({ LOG_FORMAT: 'yaml' })).toThrow(/^ {2}LOG_FORMAT: /m);
  });

  it('json on a terminal: JSON lines, the request line unchanged', () => {
    const { out, lines } = output(true, true);
    createLogger('info', { format: 'json', out, env: {} }).info(REQUEST, 'request');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ ...REQUEST, msg: 'request', level: 30 });
  });

  it('auto on a pipe: JSON lines that parse', () => {
    const { out, lines } = output(false);
    const log = createLogger('info', { out, env: {} });
    log.warn('API_KEY is not set');
    log.info(REQUEST, 'request');
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['API_KEY is not set', 'request']);
  });

  it('pretty: a request is one line, no JSON', () => {
    const { out, lines } = output(false);
    createLogger('info', { format: 'pretty', out, env: {} }).info(REQUEST, 'request');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d POST \/v1\/chat\/completions 200 claude-sonnet-4-5 → kiro \(kiro-1\) 1\.2s 120→45 tok$/);
    expect(lines[0]).not.toMatch(/[{\u001b]/);
  });

  it('pretty: fallbacks, cached tokens, an error code and a client that left, in the same line', () => {
    const line = formatEntry(
      { level: 30, time: 0, msg: 'request', method: 'POST', path: '/v1/messages', status: 502, durationMs: 61_000, model: 'm', provider: 'gemini-cli', fallbacks: ['claude-cli:429'], tokensIn: 9, tokensOut: 1, tokensCached: 8, error: 'upstream_error', clientClosed: true },
      false,
    );
    expect(line).toMatch(/ POST \/v1\/messages 502 m → claude-cli:429 → gemini-cli 1m01s 9→1 tok \(8 cached\) upstream_error client left$/);
    // a client key's name closes the line; the master key is not repeated on every line
    const keyed = { level: 30, time: 0, msg: 'request', method: 'POST', path: '/v1/messages', status: 200, durationMs: 5, model: 'm', provider: 'kiro' };
    expect(formatEntry({ ...keyed, key: 'alice' }, false)).toMatch(/ 200 m → kiro 5ms key=alice$/);
    expect(formatEntry({ ...keyed, key: 'master' }, false)).toMatch(/ 200 m → kiro 5ms$/);
    // a request that never reached a provider
    expect(formatEntry({ level: 30, time: 0, msg: 'request', method: 'GET', path: '/health', status: 200, durationMs: 2 }, false)).toMatch(/ GET \/health 200 2ms$/);
  });

  it('pretty on a terminal: coloured (status, level), unless the terminal takes no colours', () => {
    const { out, lines } = output(true, true);
    const log = createLogger('info', { out, env: {} });
    log.info({ ...REQUEST, status: 503 }, 'request');
    log.warn('API_KEY is not set: the API is open');
    expect(lines[0]).toContain('\u001b[31m503\u001b[39m');
    expect(lines[1]).toContain('\u001b[33mWARN\u001b[39m API_KEY is not set: the API is open');
    const plain = output(true, false);
    createLogger('info', { out: plain.out, env: {} }).warn('x');
    expect(plain.lines[0]).not.toContain('\u001b');
  });

  it('pretty: warnings and other lines readable on one line, fields as key=value, an error message after the text', () => {
    const { out, lines } = output(false);
    const log = createLogger('info', { format: 'pretty', out, env: {} });
    log.warn({ port: 8000, listening: 8001 }, 'port 8000 is in use; listening on 8001');
    log.child({ requestId: 'r-1', dialect: 'openai' }).error({ err: 'claude not found', code: 'cli_not_found', cause: '' }, 'request failed');
    log.info({ routes: ['a', 'b'], note: 'two words' }, 'admin: routes set');
    expect(lines).toEqual([
      expect.stringMatching(/^\d\d:\d\d:\d\d WARN port 8000 is in use; listening on 8001 port=8000 listening=8001$/),
      expect.stringMatching(/ ERROR request failed: claude not found requestId=r-1 dialect=openai code=cli_not_found$/),
      expect.stringMatching(/ admin: routes set routes=\["a","b"\] note="two words"$/),
    ]);
  });

  it('pretty: an Error logged at error level shows its stack below the line', () => {
    const { out, lines } = output(false);
    createLogger('info', { format: 'pretty', out, env: {} }).error({ err: new Error('boom') }, 'drain failed');
    expect(lines[0]).toMatch(/ ERROR drain failed: boom$/);
    expect(lines[1]).toMatch(/^\s+at /);
  });

  it('the level still filters, and secrets are still masked, in either format', () => {
    for (const format of ['pretty', 'json'] as const) {
      const { out, lines } = output(false);
      const log = createLogger('info', { format, out, env: {} });
      log.debug('chatty');
      log.info({ account: { apiKey: 'sk-hidden-1' } }, 'admin: account added');
      expect(lines).toHaveLength(1);
      expect(lines[0]).not.toContain('sk-hidden-1');
      expect(lines[0]).toContain('[masked]');
    }
  });
});
