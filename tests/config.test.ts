/** Every setting has a default, is in .env.example and in the README table; bad values name the variable. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { configSchema, loadConfig } from '../src/config.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const keys = Object.keys(configSchema.shape);

describe('configuration', () => {
  it('starts with no variables at all (embedded defaults)', () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(8000);
    expect(c.HOST).toBe('0.0.0.0');
    expect(c.MAX_TIMEOUT).toBe(600_000);
    expect(c.SSE_KEEPALIVE_INTERVAL).toBe(30);
    expect(c.CLAUDE_CLI_PATH).toBe('claude');
  });

  it.each(keys)('%s is documented in .env.example and the README table', (key) => {
    expect(readFileSync(path.join(ROOT, '.env.example'), 'utf8')).toMatch(new RegExp(`^${key}=`, 'm'));
    expect(readFileSync(path.join(ROOT, 'README.md'), 'utf8')).toMatch(new RegExp(`^\\| \`${key}\` \\|`, 'm'));
  });

  it('rejects bad values with a message naming each variable', () => {
    let message = '';
    try {
      loadConfig({ PORT: 'eighty', WORKER_CONCURRENCY: '0', LOG_LEVEL: 'loud' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^Invalid configuration/);
    for (const name of ['PORT', 'WORKER_CONCURRENCY', 'LOG_LEVEL']) expect(message).toMatch(new RegExp(`^  ${name}: `, 'm'));
  });

  it('parses lists and booleans', () => {
    const c = loadConfig({ CORS_ORIGINS: 'http://a, http://b', RATE_LIMIT_ENABLED: 'false', CLAUDE_ALLOWED_TOOLS: '' });
    expect(c.CORS_ORIGINS).toEqual(['http://a', 'http://b']);
    expect(c.RATE_LIMIT_ENABLED).toBe(false);
  });

  it('CLAUDE_ALLOWED_TOOLS set empty means no tools (unset: the default two); other empty values mean the default', () => {
    expect(loadConfig({ CLAUDE_ALLOWED_TOOLS: '' }).CLAUDE_ALLOWED_TOOLS).toEqual([]);
    expect(loadConfig({}).CLAUDE_ALLOWED_TOOLS).toEqual(['WebSearch', 'WebFetch']);
    expect(loadConfig({ PORT: '', BODY_TIMEOUT: '' })).toMatchObject({ PORT: 8000, BODY_TIMEOUT: 30_000 });
  });

  it('lifecycle defaults: body, headers and keep-alive timeouts, the preamble hold', () => {
    expect(loadConfig({})).toMatchObject({ BODY_TIMEOUT: 30_000, HEADERS_TIMEOUT: 60_000, KEEPALIVE_TIMEOUT: 65_000, PREAMBLE_HOLD_MS: 1000 });
  });
});
