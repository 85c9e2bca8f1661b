/**
 * Gemini Enterprise accounts behind the pool, driven by the openai SDK, against a fake
 * that verifies every JWT: answers, streaming, rotation, JWT and session reuse, failover
 * on 401/429 with the account state persisted, and generated images in every form,
 * served back at /image/<file>.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import OpenAI from 'openai';
import { startStack, type TestStack } from '../helpers/server.js';
import { startFakeEnterprise, type FakeEnterprise, type FakeEnterpriseAccount } from '../fakes/gemini-enterprise.js';
import { createJwt } from '../../src/providers/gemini-enterprise/jwt.js';
import { fetchJwt } from '../../src/providers/gemini-enterprise/client.js';
import { CligateError } from '../../src/core/errors.js';

const accounts: FakeEnterpriseAccount[] = [
  { csesidx: '111', secure_c_ses: 'CSE.one-secret-cookie', host_c_oses: 'COS.one', team_id: 'team-1' },
  { csesidx: '222', secure_c_ses: 'CSE.two-secret-cookie', host_c_oses: 'COS.two', team_id: 'team-2' },
];

let fake: FakeEnterprise;
let stack: TestStack;
let dataDir: string;
let client: OpenAI;

async function writeStore(): Promise<void> {
  await writeFile(
    path.join(dataDir, 'accounts.json'),
    JSON.stringify({
      proxy: '',
      providers: { 'gemini-enterprise': { models: ['gemini-enterprise', 'gemini-image'] } },
      accounts: accounts.map((a, i) => ({ id: `acc-${i + 1}`, provider: 'gemini-enterprise', credentials: { ...a, user_agent: 'test-agent' } })),
    }),
  );
}

beforeAll(async () => {
  const png = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#ff8800' } }).png().toBuffer();
  fake = await startFakeEnterprise(accounts, png);
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'cligate-ge-data-'));
  await mkdir(dataDir, { recursive: true });
  await writeStore();
  stack = await startStack({ DATA_DIR: dataDir, ADMIN_PASSWORD: 'ge-admin', GEMINI_ENTERPRISE_AUTH_URL: fake.url, GEMINI_ENTERPRISE_API_URL: fake.url, ACCOUNT_COOLDOWN_BASE: '60' });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'x', maxRetries: 0 });
});
afterAll(async () => {
  await stack?.close();
  await fake?.close();
  await rm(dataDir, { recursive: true, force: true });
});
beforeEach(() => fake.setScript({}));

const ask = (content: string, model = 'gemini-enterprise') => client.chat.completions.create({ model, messages: [{ role: 'user', content }] });

describe('Gemini Enterprise', () => {
  it('answers, rotating over the accounts, with one JWT key fetch and one session per account', async () => {
    fake.setScript({ reply: 'Hello from the business side.' });
    const used: string[] = [];
    for (let i = 0; i < 4; i++) {
      const before = fake.calls.length;
      const r = await ask(`question ${i}`);
      expect(r.choices[0]!.message.content).toBe('Hello from the business side.');
      expect(r.usage?.completion_tokens).toBeGreaterThan(0);
      used.push(fake.calls.slice(before).find((c) => c.path.endsWith('widgetStreamAssist'))!.csesidx!);
    }
    expect(used).toEqual(['111', '222', '111', '222']);
    for (const a of accounts) {
      expect(fake.count('/auth/getoxsrf', a.csesidx)).toBe(1);
      expect(fake.count('widgetCreateSession', a.csesidx)).toBe(1);
    }
    // the whole conversation went in as the query, with the system prompt first
    await client.chat.completions.create({
      model: 'gemini-enterprise',
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'one' },
        { role: 'user', content: 'second' },
      ],
    });
    const q = fake.calls.filter((c) => c.path.endsWith('widgetStreamAssist')).at(-1)!.body.streamAssistRequest.query.parts[0].text as string;
    expect(q).toMatch(/^System instructions:\nBe terse\.\n\n/);
    expect(q.indexOf('first')).toBeLessThan(q.indexOf('second'));
  });

  it('streams text deltas and the thoughts as reasoning_content', async () => {
    fake.setScript({ reply: 'one two three four five', thought: 'Thinking it over.', chunkDelayMs: 2 });
    let text = '';
    let reasoning = '';
    let chunks = 0;
    for await (const c of await client.chat.completions.create({ model: 'gemini-enterprise', stream: true, messages: [{ role: 'user', content: 'count' }] })) {
      const d = c.choices[0]?.delta as { content?: string; reasoning_content?: string } | undefined;
      if (d?.content) chunks++;
      text += d?.content ?? '';
      reasoning += d?.reasoning_content ?? '';
    }
    expect(text).toBe('one two three four five');
    expect(chunks).toBeGreaterThan(1);
    expect(reasoning).toBe('Thinking it over.');
  });

  it('the fake rejects a wrongly signed JWT (so a passing request proves ours is right)', async () => {
    const forged = createJwt({ key: Buffer.from('not-the-key'), keyId: 'whatever', csesidx: '111' });
    const res = await fetch(`${fake.url}/v1alpha/locations/global/widgetCreateSession`, { method: 'POST', headers: { authorization: `Bearer ${forged}` }, body: '{}' });
    expect(res.status).toBe(401);
  });

  it('getoxsrf refusing the cookies is an auth error (401) the pool takes the account out for', async () => {
    const ep = { auth: fake.url, api: fake.url };
    const wrong = { ...accounts[0]!, secure_c_ses: 'CSE.stale' };
    const e1 = await fetchJwt(ep, wrong, undefined).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(CligateError);
    expect((e1 as CligateError).status).toBe(401);
    fake.setScript({ oxsrfStatus: { '111': 403 } });
    expect(((await fetchJwt(ep, accounts[0]!, undefined).catch((e: unknown) => e)) as CligateError).status).toBe(401);
    fake.setScript({});
    expect(await fetchJwt(ep, accounts[0]!, undefined)).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('an image in the request goes up as inlineData', async () => {
    const b64 = fake.png.toString('base64');
    await client.chat.completions.create({
      model: 'gemini-enterprise',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'what colour?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${b64}` } }] }],
    });
    const parts = fake.calls.filter((c) => c.path.endsWith('widgetStreamAssist')).at(-1)!.body.streamAssistRequest.query.parts;
    expect(parts[1]).toEqual({ inlineData: { mimeType: 'image/png', data: b64 } });
  });

  it('generated images in every form are saved, linked and served; other names are 404', async () => {
    fake.setScript({ reply: 'Here you go.', images: ['generatedImages', 'inlineData', 'attachment', 'file', 'file-base64-text'] });
    const r = await ask('draw an orange square', 'gemini-image');
    const content = r.choices[0]!.message.content!;
    const links = [...content.matchAll(/!\[Generated image \d\]\((http[^)]+)\)/g)].map((m) => m[1]!);
    expect(links).toHaveLength(5);
    expect(links[0]!.startsWith(`${stack.url}/image/`)).toBe(true);
    for (const link of links) {
      const img = await fetch(link);
      expect(img.status).toBe(200);
      expect(img.headers.get('content-type')).toBe('image/png');
      expect(Buffer.from(await img.arrayBuffer()).equals(fake.png)).toBe(true);
    }
    const toolsSpec = fake.calls.filter((c) => c.path.endsWith('widgetStreamAssist')).at(-1)!.body.streamAssistRequest.toolsSpec;
    expect(toolsSpec).toEqual({ imageGenerationSpec: {} });
    for (const bad of ['..%2F..%2Fetc%2Fpasswd', '..%2Faccounts.json', 'x.png', `${'a'.repeat(32)}.svg`]) {
      expect((await fetch(`${stack.url}/image/${bad}`)).status).toBe(404);
    }
  });

  it('429 with retry-after: the account rests and the request fails over to the next account', async () => {
    fake.setScript({ streamStatus: { '111': 429 }, retryAfter: 120, reply: 'served' });
    for (let i = 0; i < 3; i++) {
      const before = fake.calls.length;
      expect((await ask('x')).choices[0]!.message.content).toBe('served');
      const streams = fake.calls.slice(before).filter((c) => c.path.endsWith('widgetStreamAssist')).map((c) => c.csesidx);
      // the first request tries 111, fails over to 222; then 111 rests and only 222 is asked
      expect(streams).toEqual(i === 0 ? ['111', '222'] : ['222']);
    }
  });

  it('every account failing is a clear error in the OpenAI shape; rejected credentials are recorded in the store', async () => {
    const store = JSON.parse(await readFile(path.join(dataDir, 'accounts.json'), 'utf8'));
    expect(store.accounts.every((a: { disabledReason?: string }) => !a.disabledReason)).toBe(true);
    // both real accounts refuse the stream: 222 with 401 (auth), 111 is still resting from the 429 above
    fake.setScript({ streamStatus: { '222': 401 } });
    const err = await ask('x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(429);
    expect((err as Error).message).toMatch(/cooling down/);
    await new Promise((r) => setTimeout(r, 50));
    const after = JSON.parse(await readFile(path.join(dataDir, 'accounts.json'), 'utf8'));
    expect(after.accounts.find((a: { id: string }) => a.id === 'acc-2').disabledReason).toMatch(/rejected the account's credentials/);
    // credentials are never written to logs or answers: the status endpoint masks them
    const status = await (await fetch(`${stack.url}/v1/auth/status`)).text();
    expect(status).not.toContain('one-secret-cookie');
  });

  it('admin API: the credential test gets a fresh JWT; a refused cookie takes the account out of rotation', async () => {
    const { token } = (await (await fetch(`${stack.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: 'ge-admin' }) })).json()) as any;
    const test = (id: string) => fetch(`${stack.url}/api/accounts/${id}/test`, { method: 'POST', headers: { authorization: `Bearer ${token}` } }).then((r) => r.json() as Promise<any>);
    const before = fake.count('/auth/getoxsrf', '222');
    expect(await test('acc-2')).toMatchObject({ ok: true, detail: 'JWT issued' });
    expect(fake.count('/auth/getoxsrf', '222')).toBe(before + 1);
    fake.setScript({ oxsrfStatus: { '222': 401 } });
    const bad = await test('acc-2');
    expect(bad).toMatchObject({ ok: false, status: 401 });
    expect(bad.account.state.usable).toBe(false);
    fake.setScript({});
    expect(await test('acc-2')).toMatchObject({ ok: true });
    expect((await test('acc-2')).account.state.usable).toBe(true);
  });
});
