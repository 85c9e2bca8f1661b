/**
 * Kiro accounts behind the pool, against a fake that speaks the AWS event stream:
 * each surface end to end, native tool calls, thinking on each surface, images, dual
 * endpoint, failover, token refresh (on demand, background, once under concurrency,
 * rotated tokens stored), usage limits, and stateless gateway mode.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { startStack, type TestStack } from '../helpers/server.js';
import { dataDirWithStore } from '../helpers/accounts.js';
import { startFakeKiro, type FakeKiro, type FakeKiroAccount, kiroEnv } from '../fakes/kiro.js';

const accounts: FakeKiroAccount[] = [
  { refresh_token: 'rt-social', auth_method: 'social', rotate: true },
  { refresh_token: 'rt-builder', auth_method: 'builder-id', client_id: 'cid-b', client_secret: 'sec-b' },
  { refresh_token: 'rt-idc', auth_method: 'idc', client_id: 'cid-i', client_secret: 'sec-i' },
  { refresh_token: 'rt-header', auth_method: 'social' },
];

let fake: FakeKiro;
const dirs: string[] = [];

async function kiroStack(stored: FakeKiroAccount[], extra: Record<string, string> = {}): Promise<{ stack: TestStack; dataDir: string }> {
  const dataDir = await dataDirWithStore('kiro', {
    accounts: stored.map((a) => ({
      id: a.refresh_token.replace('rt-', 'kiro-'),
      provider: 'kiro',
      credentials: { refresh_token: a.refresh_token, auth_method: a.auth_method, ...(a.client_id ? { client_id: a.client_id, client_secret: a.client_secret } : {}) },
    })),
  });
  dirs.push(dataDir);
  const stack = await startStack({
    DATA_DIR: dataDir,
    ...kiroEnv(fake),
    ACCOUNT_COOLDOWN_BASE: '60',
    ...extra,
  });
  return { stack, dataDir };
}

let main: TestStack;
let mainData: string;
beforeAll(async () => {
  fake = await startFakeKiro(accounts);
  ({ stack: main, dataDir: mainData } = await kiroStack(accounts.slice(0, 3), { INTERNAL_API_KEY: 'internal-secret' }));
});
afterAll(async () => {
  await main?.close();
  await fake?.close();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});
beforeEach(() => fake.setScript({}));

const openai = (s = main) => new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'x', maxRetries: 0 });
const lastChat = () => [...fake.calls].reverse().find((c) => c.path.endsWith('generateAssistantResponse'))!;

describe('Kiro: each surface', () => {
  it('OpenAI: text and usage from the context share; model name mapped; history alternates', async () => {
    fake.setScript({ reply: 'Hello from Kiro.', contextUsagePercentage: 2.5 });
    const r = await openai().chat.completions.create({
      model: 'claude-sonnet-4.5',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello' },
        { role: 'user', content: 'again' },
      ],
    });
    expect(r.choices[0]!.message.content).toBe('Hello from Kiro.');
    expect(r.usage?.prompt_tokens).toBe(5000);
    const state = lastChat().body.conversationState;
    expect(state.currentMessage.userInputMessage).toMatchObject({ content: 'again', modelId: 'CLAUDE_SONNET_4_5_20250929_V1_0', origin: 'AI_EDITOR' });
    expect(state.history.map((h: object) => Object.keys(h)[0])).toEqual(['userInputMessage', 'assistantResponseMessage']);
    expect(state.history[0].userInputMessage.content).toBe('Be brief.\n\nhi');
  });

  it('Anthropic (streamed) and Gemini surfaces answer too', async () => {
    fake.setScript({ reply: 'Streamed from Kiro in pieces.' });
    const a = new Anthropic({ baseURL: main.url, apiKey: 'x', maxRetries: 0 });
    const msg = await a.messages.stream({ model: 'claude-haiku-4.5', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();
    expect(msg.content).toEqual([expect.objectContaining({ type: 'text', text: 'Streamed from Kiro in pieces.' })]);
    const g = new GoogleGenAI({ apiKey: 'x', httpOptions: { baseUrl: main.url } });
    const r = await g.models.generateContent({ model: 'claude-sonnet-4', contents: 'hi' });
    expect(r.text).toBe('Streamed from Kiro in pieces.');
    expect(lastChat().body.conversationState.currentMessage.userInputMessage.modelId).toBe('CLAUDE_SONNET_4_20250514_V1_0');
  });

  it('native tool calls: tools go up as toolSpecification, tool uses come back streamed; results go up as toolResults', async () => {
    fake.setScript({ reply: 'Checking.', toolCalls: [{ name: 'get_weather', input: { city: 'Paris', days: [1, 2] } }] });
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const stream = await openai().chat.completions.create({ model: 'claude-sonnet-4.5', stream: true, tools, messages: [{ role: 'user', content: 'Weather?' }] });
    let args = '';
    let id = '';
    let finish: string | null = null;
    for await (const c of stream) {
      for (const d of c.choices[0]?.delta.tool_calls ?? []) {
        id ||= d.id ?? '';
        args += d.function?.arguments ?? '';
      }
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    expect(finish).toBe('tool_calls');
    expect(JSON.parse(args)).toEqual({ city: 'Paris', days: [1, 2] });
    expect(lastChat().body.conversationState.currentMessage.userInputMessage.userInputMessageContext.tools[0].toolSpecification).toMatchObject({ name: 'get_weather', inputSchema: { json: { type: 'object' } } });

    fake.setScript({ reply: 'Sunny.' });
    await openai().chat.completions.create({
      model: 'claude-sonnet-4.5',
      tools,
      messages: [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: null, tool_calls: [{ id, type: 'function', function: { name: 'get_weather', arguments: args } }] },
        { role: 'tool', tool_call_id: id, content: '21C' },
      ],
    });
    const st = lastChat().body.conversationState;
    expect(st.history[1].assistantResponseMessage.toolUses).toEqual([{ toolUseId: id, name: 'get_weather', input: { city: 'Paris', days: [1, 2] } }]);
    expect(st.currentMessage.userInputMessage.userInputMessageContext.toolResults).toEqual([{ toolUseId: id, content: [{ text: '21C' }], status: 'success' }]);
  });

  it('thinking (model-thinking): reasoning_content on OpenAI, a thinking block on Anthropic, a thought part on Gemini', async () => {
    fake.setScript({ reply: 'Answer.', thinking: 'Let me think step by step.' });
    const r = await openai().chat.completions.create({ model: 'claude-sonnet-4.5-thinking', messages: [{ role: 'user', content: 'q' }] });
    const msg = r.choices[0]!.message as { content: string; reasoning_content?: string };
    expect(msg.content).toBe('Answer.');
    expect(msg.reasoning_content).toBe('Let me think step by step.');
    expect(lastChat().body.conversationState.currentMessage.userInputMessage.content).toMatch(/^<thinking_mode>enabled<\/thinking_mode>/);

    const a = await new Anthropic({ baseURL: main.url, apiKey: 'x', maxRetries: 0 }).messages.create({ model: 'claude-sonnet-4.5-thinking', max_tokens: 100, messages: [{ role: 'user', content: 'q' }] });
    expect(a.content[0]).toMatchObject({ type: 'thinking', thinking: 'Let me think step by step.' });
    expect(a.content[1]).toMatchObject({ type: 'text', text: 'Answer.' });

    const g = await new GoogleGenAI({ apiKey: 'x', httpOptions: { baseUrl: main.url } }).models.generateContent({ model: 'claude-sonnet-4.5-thinking', contents: 'q' });
    const parts = g.candidates?.[0]?.content?.parts ?? [];
    expect(parts.find((p) => p.thought)?.text).toBe('Let me think step by step.');
    expect(g.text).toBe('Answer.');
    // without the suffix no thinking is asked for
    await openai().chat.completions.create({ model: 'claude-sonnet-4.5', messages: [{ role: 'user', content: 'q' }] });
    expect(lastChat().body.conversationState.currentMessage.userInputMessage.content).toBe('q');
  });

  it('images go up in userInputMessage.images', async () => {
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
    await openai().chat.completions.create({ model: 'claude-sonnet-4.5', messages: [{ role: 'user', content: [{ type: 'text', text: 'what?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } }] }] });
    expect(lastChat().body.conversationState.currentMessage.userInputMessage.images).toEqual([{ format: 'png', source: { bytes: png } }]);
  });
});

describe('Kiro: endpoints, failover and accounts', () => {
  it('the Amazon Q endpoint answers when CodeWhisperer is down', async () => {
    fake.setScript({ primaryDown: true, reply: 'via Q' });
    const before = fake.calls.length;
    expect((await openai().chat.completions.create({ model: 'claude-sonnet-4.5', messages: [{ role: 'user', content: 'x' }] })).choices[0]!.message.content).toBe('via Q');
    expect(fake.calls.slice(before).filter((c) => c.path.endsWith('generateAssistantResponse')).map((c) => c.path.split('/')[1])).toEqual(['cw', 'q']);
  });

  it('429 on one account fails over to another; that account then rests', async () => {
    fake.setScript({ status: { 'rt-builder': 429, 'rt-idc': 429 }, retryAfter: 300, reply: 'social served' });
    const asked = (id: string) => fake.count('generateAssistantResponse', id);
    const before = { b: asked('rt-builder'), i: asked('rt-idc') };
    for (let i = 0; i < 6; i++) {
      expect((await openai().chat.completions.create({ model: 'claude-sonnet-4.5', messages: [{ role: 'user', content: 'x' }] })).choices[0]!.message.content).toBe('social served');
    }
    // each limited account was asked at most once: after its 429 it rests for retry-after
    expect(asked('rt-builder') - before.b).toBeLessThanOrEqual(1);
    expect(asked('rt-idc') - before.i).toBeLessThanOrEqual(1);
    const status = (await (await fetch(`${main.url}/v1/auth/status`)).json()) as any;
    const kiro = JSON.stringify(status);
    expect(kiro).not.toContain('rt-social');
    expect(kiro).toContain('AGENTIC_REQUEST'); // usage limits reported per account
  });

  it('refresh paths: social rotates its refresh token (written back to the store); builder-id and idc use the OIDC endpoint', async () => {
    expect(fake.count('/refreshToken', 'rt-social')).toBeGreaterThanOrEqual(1);
    expect(fake.count('/token', 'rt-builder') + fake.count('/token', 'rt-idc')).toBeGreaterThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 50));
    const store = JSON.parse(await readFile(path.join(mainData, 'accounts.json'), 'utf8'));
    const social = store.accounts.find((a: { id: string }) => a.id === 'kiro-social');
    expect(social.credentials.refresh_token).toBe(fake.refreshTokenOf('rt-social'));
    expect(social.credentials.refresh_token).not.toBe('rt-social');
    expect(social.credentials.profile_arn).toMatch(/^arn:aws:codewhisperer/);
  });

  it('403: the token is refreshed once and retried; still refused, the account leaves rotation and the client gets 401', async () => {
    const { stack, dataDir } = await kiroStack([accounts[2]!]);
    try {
      fake.setScript({ status: { 'rt-idc': 403 } });
      const refreshes = fake.count('/token', 'rt-idc');
      const err = await openai(stack).chat.completions.create({ model: 'kiro/claude-sonnet-4.5', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
      expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(401);
      expect(fake.count('/token', 'rt-idc') - refreshes).toBe(2); // the first token, then one forced refresh
      await new Promise((r) => setTimeout(r, 50));
      const stored = JSON.parse(await readFile(path.join(dataDir, 'accounts.json'), 'utf8'));
      expect(stored.accounts[0].disabledReason).toMatch(/Kiro rejected the account/);
      fake.setScript({});
      const again = await openai(stack).chat.completions.create({ model: 'kiro/claude-sonnet-4.5', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
      expect((again as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
      expect((again as Error).message).toMatch(/No usable kiro account \(kiro-idc: Kiro rejected/);
    } finally {
      await stack.close();
    }
  });

  it('concurrent requests on one account refresh its token once', async () => {
    const { stack } = await kiroStack([accounts[1]!]);
    try {
      fake.setScript({ refreshDelayMs: 150, reply: 'ok' });
      const before = fake.count('/token', 'rt-builder');
      const answers = await Promise.all(Array.from({ length: 6 }, () => openai(stack).chat.completions.create({ model: 'claude-sonnet-4.5', messages: [{ role: 'user', content: 'x' }] })));
      expect(answers.every((a) => a.choices[0]!.message.content === 'ok')).toBe(true);
      expect(fake.count('/token', 'rt-builder') - before).toBe(1);
    } finally {
      await stack.close();
    }
  });

  it('the background pass refreshes tokens that expire within 5 minutes, and only those', async () => {
    const { stack } = await kiroStack([accounts[2]!], { KIRO_REFRESH_INTERVAL: '0.004' }); // every 240 ms
    try {
      fake.setScript({ expiresIn: 120 }); // tokens that live 2 minutes: inside the 5-minute margin
      await openai(stack).chat.completions.create({ model: 'claude-sonnet-4.5', messages: [{ role: 'user', content: 'x' }] });
      const start = fake.count('/token', 'rt-idc');
      await new Promise((r) => setTimeout(r, 800));
      expect(fake.count('/token', 'rt-idc')).toBeGreaterThan(start); // refreshed with no request at all
      fake.setScript({ expiresIn: 3600 }); // the next refresh brings an hour-long token
      await new Promise((r) => setTimeout(r, 500));
      const settled = fake.count('/token', 'rt-idc');
      await new Promise((r) => setTimeout(r, 800));
      expect(fake.count('/token', 'rt-idc')).toBe(settled); // an hour left: left alone
    } finally {
      await stack.close();
    }
  });
});

describe('Kiro: stateless gateway mode', () => {
  const headers = { 'x-kiro-refresh-token': 'rt-header', 'x-kiro-region': 'us-east-1', 'x-kiro-auth-method': 'social' };

  it('an account in X-Kiro-* headers is used with a valid internal key, refused without it, and never stored', async () => {
    fake.setScript({ reply: 'header account' });
    const denied = await openai().chat.completions.create({ model: 'claude-sonnet-4.5', messages: [{ role: 'user', content: 'x' }] }, { headers }).catch((e: unknown) => e);
    expect((denied as InstanceType<typeof OpenAI.APIError>).status).toBe(401);
    expect((denied as Error).message).toMatch(/X-Internal-Api-Key/);
    const r = await openai().chat.completions.create({ model: 'claude-sonnet-4.5', messages: [{ role: 'user', content: 'x' }] }, { headers: { ...headers, 'x-internal-api-key': 'internal-secret' } });
    expect(r.choices[0]!.message.content).toBe('header account');
    expect(lastChat().account).toBe('rt-header');
    const store = await readFile(path.join(mainData, 'accounts.json'), 'utf8');
    expect(store).not.toContain('rt-header');
  });

  it('with INTERNAL_API_KEY unset the mode is off', async () => {
    const { stack } = await kiroStack([]);
    try {
      const err = await openai(stack).chat.completions.create({ model: 'claude-sonnet-4.5', messages: [{ role: 'user', content: 'x' }] }, { headers: { ...headers, 'x-internal-api-key': 'anything' } }).catch((e: unknown) => e);
      expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(401);
      expect((err as Error).message).toMatch(/set INTERNAL_API_KEY/);
    } finally {
      await stack.close();
    }
  });
});
