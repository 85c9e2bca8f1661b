/**
 * GET /metrics after real traffic: the claude CLI behind the fake Anthropic API and Kiro
 * accounts behind the fake Kiro (one of them rate-limited). Asserts the series and their
 * counts, the gauges at rest, and the protection (API key unless METRICS_PUBLIC).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rm } from 'node:fs/promises';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startStack, type TestStack } from '../helpers/server.js';
import { dataDirWithStore, kiroSocial } from '../helpers/accounts.js';
import { startFakeKiro, type FakeKiro, kiroEnv } from '../fakes/kiro.js';
import { backgroundSettled } from '../../src/runtime/background.js';

let fake: FakeKiro;
let stack: TestStack;
let dataDir: string;
const KEY = 'sk-metrics';

/** the value of one series in Prometheus text format (labels matched exactly, in any order) */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.keys(got).length === Object.keys(labels).length && Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

beforeAll(async () => {
  fake = await startFakeKiro([
    { refresh_token: 'rt-m-one', auth_method: 'social' },
    { refresh_token: 'rt-m-two', auth_method: 'social' },
  ]);
  dataDir = await dataDirWithStore('metrics', { providers: { kiro: { strategy: 'round-robin' } }, accounts: kiroSocial({ 'm-one': 'rt-m-one', 'm-two': 'rt-m-two' }) });
  stack = await startStack({
    DATA_DIR: dataDir,
    API_KEY: KEY,
    ...kiroEnv(fake),
    ACCOUNT_COOLDOWN_BASE: '600',
  });
});
afterAll(async () => {
  await stack?.close();
  await fake?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('GET /metrics', () => {
  it('counts requests, latency, first tokens, tokens, queue waits, refreshes, failures and account states', async () => {
    const openai = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: KEY, maxRetries: 0 });
    for (let i = 0; i < 3; i++) await openai.chat.completions.create({ model: 'claude-sonnet-4.5', messages: [{ role: 'user', content: `metrics ${i}` }] });
    const stream = await openai.chat.completions.create({ model: 'claude-sonnet-4.5', stream: true, messages: [{ role: 'user', content: 'metrics stream' }] });
    for await (const _ of stream) void _;
    // one Kiro account rate-limited: the request fails over (one 'cool' failure) and still answers
    fake.setScript({ status: { 'rt-m-one': 429 }, retryAfter: 600 });
    await openai.chat.completions.create({ model: 'claude-sonnet-4.5', messages: [{ role: 'user', content: 'metrics 429' }] });
    await openai.chat.completions.create({ model: 'claude-sonnet-4.5', messages: [{ role: 'user', content: 'metrics 429 again' }] });
    fake.setScript({});
    // the claude CLI through the worker pool, Anthropic dialect (qualified: with Kiro accounts, a bare claude-sonnet-4-5 is Kiro's)
    await new Anthropic({ baseURL: stack.url, apiKey: KEY, maxRetries: 0 }).messages.create({ model: 'claude-cli/claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'cli metrics' }] });
    await backgroundSettled();

    const res = await fetch(`${stack.url}/metrics`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();

    const kiro = { dialect: 'openai', provider: 'kiro', model: 'claude-sonnet-4.5', status: '200' };
    expect(sample(text, 'cligate_requests_total', kiro)).toBe(6);
    expect(sample(text, 'cligate_requests_total', { dialect: 'anthropic', provider: 'claude-cli', model: 'claude-cli/claude-sonnet-4-5', status: '200' })).toBe(1);
    expect(sample(text, 'cligate_request_duration_seconds_count', { dialect: 'openai', provider: 'kiro' })).toBe(6);
    expect(sample(text, 'cligate_time_to_first_token_seconds_count', { dialect: 'openai', provider: 'kiro' })).toBe(6);
    expect(sample(text, 'cligate_time_to_first_token_seconds_count', { dialect: 'anthropic', provider: 'claude-cli' })).toBe(1);
    expect(sample(text, 'cligate_tokens_total', { provider: 'kiro', model: 'claude-sonnet-4.5', kind: 'input' })).toBeGreaterThan(0);
    expect(sample(text, 'cligate_tokens_total', { provider: 'claude-cli', model: 'claude-cli/claude-sonnet-4-5', kind: 'output' })).toBeGreaterThan(0);
    expect(sample(text, 'cligate_queue_wait_seconds_count')).toBe(1);
    expect(sample(text, 'cligate_account_refreshes_total', { provider: 'kiro', result: 'ok' })).toBe(fake.count('/refreshToken'));
    expect(sample(text, 'cligate_account_failures_total', { provider: 'kiro', outcome: 'cool' })).toBe(1);
    expect(sample(text, 'cligate_accounts', { provider: 'kiro', state: 'cooling' })).toBe(1);
    expect(sample(text, 'cligate_accounts', { provider: 'kiro', state: 'available' })).toBe(1);
    expect(sample(text, 'cligate_accounts', { provider: 'kiro', state: 'dead' })).toBe(0);
    expect(sample(text, 'cligate_cli_processes')).toBe(0);
    expect(sample(text, 'cligate_sandboxes')).toBe(0);
    expect(sample(text, 'cligate_queue_depth')).toBe(0);
    expect(sample(text, 'cligate_workers_busy')).toBe(0);
    expect(sample(text, 'cligate_process_resident_memory_bytes')).toBeGreaterThan(0);
    // the event-loop delay is still reported, sampled every 100 ms rather than 10 (an idle server's wake-ups)
    expect(sample(text, 'cligate_nodejs_eventloop_lag_p99_seconds')).toBeGreaterThan(0);
    // no secret in the exposition
    expect(text).not.toContain('rt-m-one');
  });

  it('needs the API key unless METRICS_PUBLIC=true', async () => {
    expect((await fetch(`${stack.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${stack.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const open = await startStack({ API_KEY: KEY, METRICS_PUBLIC: 'true' });
    try {
      const r = await fetch(`${open.url}/metrics`);
      expect(r.status).toBe(200);
      expect(sample(await r.text(), 'cligate_cli_processes')).toBe(0);
      // the API itself stays protected
      expect((await fetch(`${open.url}/v1/models`)).status).toBe(401);
    } finally {
      await open.close();
    }
  });
});
