/**
 * Model routes with cross-provider fallback, against real upstream fakes: Kiro (AWS event
 * stream), Cloud Code with no accounts, an OpenAI-compatible upstream, and the real claude CLI.
 * A target that cannot start the answer (429, 5xx, no accounts) hands over to the next; once a
 * byte has gone to the client it never does. Which provider served, and what was tried first,
 * is in the headers and the usage record.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import OpenAI from 'openai';
import { startStack, type TestStack } from '../helpers/server.js';
import { startFakeKiro, type FakeKiro, kiroEnv } from '../fakes/kiro.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai.js';
import { dataDirWithStore } from '../helpers/accounts.js';

const ROUTES = [
  'claude-sonnet-4-5*=kiro/claude-sonnet-4.5,cloudcode/claude-sonnet-4-5-thinking,openai-compatible/gpt-relay',
  'relay-first=openai-compatible/gpt-relay,kiro/claude-sonnet-4.5',
  'kiro-only=kiro/claude-sonnet-4.5,cloudcode/claude-sonnet-4-5-thinking',
].join('; ');

let kiro: FakeKiro;
let relay: FakeOpenAI;
let stack: TestStack;
let dataDir: string;

beforeAll(async () => {
  kiro = await startFakeKiro([{ refresh_token: 'rt-route', auth_method: 'social' }]);
  relay = await startFakeOpenAI();
  dataDir = await dataDirWithStore('routes', { accounts: [{ id: 'kiro-route', provider: 'kiro', credentials: { refresh_token: 'rt-route', auth_method: 'social' } }] });
  stack = await startStack({
    DATA_DIR: dataDir,
    ...kiroEnv(kiro),
    OPENAI_COMPATIBLE_BASE_URL: `${relay.url}/v1`,
    OPENAI_COMPATIBLE_MODELS: 'gpt-relay',
    MODEL_ROUTES: ROUTES,
    // a rested account would hide the next test's script: rests last at most 50 ms
    ACCOUNT_COOLDOWN_BASE: '0.001',
    ACCOUNT_COOLDOWN_MAX: '0.05',
  });
});
afterAll(async () => {
  await stack?.close();
  await kiro?.close();
  await relay?.close();
  await rm(dataDir, { recursive: true, force: true });
});
beforeEach(async () => {
  // the last test's rate-limited account rests at most ACCOUNT_COOLDOWN_MAX
  await new Promise((r) => setTimeout(r, 80));
  kiro.setScript({});
  relay.setScript({});
  stack.fake.setScript({});
});

const chatCalls = (f: FakeKiro) => f.calls.filter((c) => c.path.endsWith('generateAssistantResponse')).length;

async function chat(model: string, extra: Record<string, unknown> = {}) {
  const res = await fetch(`${stack.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }], ...extra }),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** the usage record of one request, once the recorder has written it */
async function usageRecord(requestId: string): Promise<any> {
  const dir = path.join(dataDir, 'usage');
  for (let i = 0; i < 100; i++) {
    const files = await readdir(dir).catch(() => [] as string[]);
    for (const f of files) {
      const lines = (await readFile(path.join(dir, f), 'utf8')).split('\n').filter(Boolean);
      const found = lines.map((l) => JSON.parse(l)).find((r) => r.requestId === requestId);
      if (found) return found;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no usage record for ${requestId}`);
}

describe('a route with three targets', () => {
  it('first rate-limited, second without accounts: the third serves, and the header and usage record say so', async () => {
    kiro.setScript({ status: { 'rt-route': 429 } });
    relay.setScript({ reply: 'served by the relay' });
    const before = relay.requests.length;
    // Claude Code's dated name, claimed by the route's glob
    const r = await chat('claude-sonnet-4-5-20250929');
    expect(r.status, r.text).toBe(200);
    expect(JSON.parse(r.text).choices[0].message.content).toBe('served by the relay');
    // the client keeps the name it asked for
    expect(JSON.parse(r.text).model).toBe('claude-sonnet-4-5-20250929');
    expect(r.headers.get('x-cligate-provider')).toBe('openai-compatible');
    const attempts = r.headers.get('x-cligate-attempts')!;
    // Kiro's pool says 429 in its words (the upstream's, or "every account cooling down" once it rests)
    expect(attempts).toMatch(/^kiro\/claude-sonnet-4\.5;status=429;code=\w+, cloudcode\/claude-sonnet-4-5-thinking;status=503;code=no_accounts, openai-compatible\/gpt-relay$/);
    expect(relay.requests.slice(before).map((q) => q.body.model)).toEqual(['gpt-relay']);
    const rec = await usageRecord(r.headers.get('x-request-id')!);
    expect(rec).toMatchObject({ provider: 'openai-compatible', model: 'claude-sonnet-4-5-20250929', status: 200, fallbacks: ['kiro/claude-sonnet-4.5:429', 'cloudcode/claude-sonnet-4-5-thinking:503'] });
  });

  it('the first target serves when it can: Kiro gets its own model id for the dated name, no attempts header', async () => {
    kiro.setScript({ reply: 'Kiro answers' });
    const before = chatCalls(kiro);
    const r = await chat('claude-sonnet-4-5-20250929');
    expect(r.status, r.text).toBe(200);
    expect(JSON.parse(r.text).choices[0].message.content).toBe('Kiro answers');
    expect(r.headers.get('x-cligate-provider')).toBe('kiro');
    expect(r.headers.get('x-cligate-attempts')).toBeNull();
    expect(chatCalls(kiro) - before).toBe(1);
    const sent = kiro.calls.filter((c) => c.path.endsWith('generateAssistantResponse')).at(-1)!.body;
    expect(JSON.stringify(sent)).toContain('CLAUDE_SONNET_4_5_20250929_V1_0');
  });

  it('every target failing: the first target\'s error (its status, its reason), naming what else was tried', async () => {
    kiro.setScript({ status: { 'rt-route': 429 } });
    const r = await chat('kiro-only');
    expect(r.status, r.text).toBe(429);
    const body = JSON.parse(r.text);
    expect(body.error.message).toMatch(/Kiro rate limit .*\(tried in turn: kiro\/claude-sonnet-4\.5: 429 \w+; cloudcode\/claude-sonnet-4-5-thinking: 503 no_accounts\)$/);
    expect(r.headers.get('x-cligate-attempts')).toContain('cloudcode/claude-sonnet-4-5-thinking;status=503');
  });
});

describe('fallback happens only before the first byte', () => {
  it('a 5xx before the first byte: the next target serves', async () => {
    relay.setScript({ status: 500 });
    kiro.setScript({ reply: 'Kiro stepped in' });
    const r = await chat('relay-first', { stream: true });
    expect(r.status).toBe(200);
    const said = [...r.text.matchAll(/"content":"([^"]*)"/g)].map((m) => m[1]).join('');
    expect(said).toBe('Kiro stepped in');
    expect(r.headers.get('x-cligate-provider')).toBe('kiro');
    expect(r.headers.get('x-cligate-attempts')).toBe('openai-compatible/gpt-relay;status=502;code=upstream_error, kiro/claude-sonnet-4.5');
  });

  it('a stream that breaks after its first bytes ends with an error in the stream; the next target is never asked', async () => {
    // the relay holds its second piece until the client has read the first, then breaks off
    let clientSawFirst!: () => void;
    const seen = new Promise<void>((r) => (clientSawFirst = r));
    relay.setScript({ reply: 'one two three four five six', cutAfter: 2, gate: () => seen });
    kiro.setScript({ reply: 'must not be used' });
    const before = chatCalls(kiro);
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'relay-first', stream: true, messages: [{ role: 'user', content: 'hello' }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-cligate-provider')).toBe('openai-compatible');
    let text = '';
    const decoder = new TextDecoder();
    for await (const chunk of res.body!) {
      text += decoder.decode(chunk, { stream: true });
      if (text.includes('"content":"one "')) clientSawFirst();
    }
    expect(res.headers.get('x-cligate-attempts')).toBeNull();
    // the bytes the client already had, then an error event, never another provider's text
    expect(text).toContain('"content":"one "');
    expect(text).toMatch(/"error":\{/);
    expect(text).not.toContain('must not');
    expect(chatCalls(kiro) - before).toBe(0);
  });

  it("the client's own mistake (400 upstream) is not retried elsewhere", async () => {
    relay.setScript({ status: 400 });
    const before = chatCalls(kiro);
    const r = await chat('relay-first');
    expect(r.status).toBe(400);
    expect(chatCalls(kiro) - before).toBe(0);
    expect(r.headers.get('x-cligate-attempts')).toBeNull();
  });
});

describe('bare names', () => {
  it('are served by every provider that serves them, in order: Kiro rate-limited, the claude CLI answers', async () => {
    kiro.setScript({ status: { 'rt-route': 429 } });
    stack.fake.setScript({ reply: 'the claude CLI answers' });
    // Kiro's dotted name; the claude CLI serves any claude-* name
    const r = await chat('claude-haiku-4.5');
    expect(r.status, r.text).toBe(200);
    expect(JSON.parse(r.text).choices[0].message.content).toBe('the claude CLI answers');
    expect(r.headers.get('x-cligate-provider')).toBe('claude-cli');
    expect(r.headers.get('x-cligate-attempts')).toMatch(/^kiro\/claude-haiku-4\.5;status=429;code=\w+, claude-cli\/claude-haiku-4\.5$/);
  });

  it('provider/model reaches that provider only: no fallback', async () => {
    kiro.setScript({ status: { 'rt-route': 429 } });
    const r = await chat('kiro/claude-haiku-4-5-20251001');
    expect(r.status).toBe(429);
    expect(r.headers.get('x-cligate-provider')).toBe('kiro');
  });

  it('/v1/models lists the route names and the names routes make reachable', async () => {
    const ids = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'x' }).models.list().then((p) => p.data.map((m) => m.id));
    const list = await ids;
    expect(list).toContain('relay-first');
    expect(list).toContain('kiro-only');
    expect(list).toContain('kiro/claude-sonnet-4.5');
  });
});
