/**
 * Google Cloud Code / Antigravity accounts behind the pool, against a fake that checks
 * what the real backend checks (tokens, projects, signatures, schema keywords): each
 * surface, refresh and project discovery, endpoint fallback, stickiness and the
 * 2-minute rule, signatures across multi-turn tool use, cached-token usage, /account-limits.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { startStack, type TestStack } from '../helpers/server.js';
import { startFakeCloud, type FakeCloud, type FakeCloudAccount, cloudcodeEnv } from '../fakes/cloudcode.js';

const accounts: FakeCloudAccount[] = [
  { refresh_token: '1//rt-alpha', project: 'proj-alpha' },
  { refresh_token: '1//rt-beta' }, // no project yet: onboarding
];

let fake: FakeCloud;
let stack: TestStack;
let dataDir: string;

beforeAll(async () => {
  fake = await startFakeCloud(accounts);
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'cligate-cc-data-'));
  await writeFile(
    path.join(dataDir, 'accounts.json'),
    JSON.stringify({ accounts: accounts.map((a, i) => ({ id: `cc-${i + 1}`, provider: 'cloudcode', credentials: { refresh_token: a.refresh_token, email: `user${i + 1}@example.com` } })) }),
  );
  stack = await startStack({
    DATA_DIR: dataDir,
    API_KEY: 'sk-cc',
    ADMIN_PASSWORD: 'cc-admin',
    ...cloudcodeEnv(fake),
  });
});
afterAll(async () => {
  await stack?.close();
  await fake?.close();
  await rm(dataDir, { recursive: true, force: true });
});
beforeEach(() => fake.setScript({}));

const openai = () => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'sk-cc', maxRetries: 0 });
const anthropic = () => new Anthropic({ baseURL: stack.url, apiKey: 'sk-cc', maxRetries: 0 });
const streams = () => fake.calls.filter((c) => c.path.endsWith('streamGenerateContent'));

describe('Cloud Code: surfaces and accounts', () => {
  it('OpenAI stream; tokens refreshed once per account; projects discovered (onboarding when needed) and stored', async () => {
    fake.setScript({ reply: 'Hello from the cloud.' });
    // two different conversations land on the two accounts
    for (const q of ['first conversation', 'second conversation', 'first conversation', 'second conversation']) {
      let text = '';
      for await (const c of await openai().chat.completions.create({ model: 'gemini-3-pro-high', stream: true, messages: [{ role: 'user', content: q }] })) text += c.choices[0]?.delta.content ?? '';
      expect(text).toBe('Hello from the cloud.');
    }
    for (const a of accounts) expect(fake.count('/token', a.refresh_token)).toBe(1);
    expect(fake.count('loadCodeAssist')).toBe(2);
    expect(fake.count('onboardUser', '1//rt-beta')).toBe(2); // polled until done
    await new Promise((r) => setTimeout(r, 50));
    const store = JSON.parse(await readFile(path.join(dataDir, 'accounts.json'), 'utf8'));
    expect(store.accounts.map((a: any) => a.credentials.project_id)).toEqual(['proj-alpha', 'onboarded-1//rt-beta']);
    expect(streams().at(-1)!.body).toMatchObject({ userAgent: 'antigravity', requestType: 'agent', model: 'gemini-3-pro-high' });
  });

  it('stickiness: a conversation stays on its account', async () => {
    const owner = async (q: string) => {
      await openai().chat.completions.create({ model: 'gemini-3-flash', messages: [{ role: 'user', content: q }] });
      return streams().at(-1)!.account;
    };
    const a = await owner('sticky question');
    for (let i = 0; i < 3; i++) expect(await owner('sticky question')).toBe(a);
  });

  it('the 2-minute rule: a short rest is waited out on the same account, a long one moves the conversation', async () => {
    const q = 'two minute rule';
    await openai().chat.completions.create({ model: 'gemini-3-flash', messages: [{ role: 'user', content: q }] });
    const home = streams().at(-1)!.account!;
    const other = accounts.find((x) => x.refresh_token !== home)!.refresh_token;

    fake.setScript({ exhausted: { [home]: 1 } });
    const before = streams().length;
    const pending = openai().chat.completions.create({ model: 'gemini-3-flash', messages: [{ role: 'user', content: q }] });
    await new Promise((r) => setTimeout(r, 300));
    fake.setScript({}); // the quota comes back while we wait
    expect((await pending).choices[0]!.message.content).toBe('Cloud says hi.');
    expect(streams().slice(before).map((c) => c.account)).toEqual([home, home]);

    fake.setScript({ exhausted: { [home]: 600 } });
    const b2 = streams().length;
    await openai().chat.completions.create({ model: 'gemini-3-flash', messages: [{ role: 'user', content: q }] });
    expect(streams().slice(b2).map((c) => c.account)).toEqual([home, other]);
    fake.setScript({});
    await openai().chat.completions.create({ model: 'gemini-3-flash', messages: [{ role: 'user', content: q }] });
    expect(streams().at(-1)!.account).toBe(other); // the conversation now lives there
  });

  it('endpoint fallback: the second root answers when the first is down', async () => {
    fake.setScript({ primaryDown: true, reply: 'from b' });
    const before = fake.calls.length;
    const r = await openai().chat.completions.create({ model: 'gemini-3-flash', messages: [{ role: 'user', content: 'fallback' }] });
    expect(r.choices[0]!.message.content).toBe('from b');
    expect(fake.calls.slice(before).filter((c) => c.path.endsWith('streamGenerateContent')).map((c) => c.path.split(':')[0])).toEqual(['a', 'b']);
  });

  it('Anthropic: thinking with its signature, cached tokens reported apart; a multi-turn tool conversation sends the signature back', async () => {
    fake.setScript({ thinking: 'I should look it up.', reply: 'Looking.', toolCall: { name: 'lookup', args: { q: 'x' } }, cachedTokens: 600 });
    const tools = [{ name: 'lookup', description: 'Look up', input_schema: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object' as const, additionalProperties: false, properties: { q: { type: 'string', default: 'a' }, n: { const: 3 } } } }];
    const first = await anthropic().messages.create({ model: 'claude-sonnet-4-5-thinking', max_tokens: 1024, tools, messages: [{ role: 'user', content: 'find x' }] });
    expect(first.content[0]).toMatchObject({ type: 'thinking', thinking: 'I should look it up.' });
    expect((first.content[0] as Anthropic.ThinkingBlock).signature).toMatch(/^sig-/);
    expect(first.stop_reason).toBe('tool_use');
    expect(first.usage).toMatchObject({ input_tokens: 400, cache_read_input_tokens: 600, output_tokens: 20 });
    const sent = streams().at(-1)!.body.request;
    expect(JSON.stringify(sent.tools)).not.toMatch(/\$schema|additionalProperties|"default"|"const"/);
    expect(sent.tools[0].functionDeclarations[0].parameters.properties.n).toEqual({ enum: ['3'], type: 'string' });

    const use = first.content.find((b) => b.type === 'tool_use') as Anthropic.ToolUseBlock;
    fake.setScript({ reply: 'Found it.' });
    const second = await anthropic().messages.create({
      model: 'claude-sonnet-4-5-thinking',
      max_tokens: 1024,
      tools,
      messages: [
        { role: 'user', content: 'find x' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'x is 42' }] },
      ],
    });
    expect(second.content.find((b) => b.type === 'text')).toMatchObject({ text: 'Found it.' });
    const history = streams().at(-1)!.body.request.contents;
    expect(history[1].parts[0]).toMatchObject({ thought: true, thoughtSignature: (first.content[0] as Anthropic.ThinkingBlock).signature });
    expect(history[2].parts[0].functionResponse).toMatchObject({ name: 'lookup', id: use.id, response: { output: 'x is 42' } });
  });

  it('OpenAI client that drops signatures: the cache sends the Gemini function-call signature back', async () => {
    fake.setScript({ reply: 'Calling.', toolCall: { name: 'lookup', args: { q: 'y' } } });
    const tools = [{ type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: ['string', 'null'] } } } } }];
    const r = await openai().chat.completions.create({ model: 'gemini-3-pro-high', tools, messages: [{ role: 'user', content: 'lookup y' }] });
    const call = r.choices[0]!.message.tool_calls![0]!;
    if (call.type !== 'function') throw new Error('not a function call');
    fake.setScript({ reply: 'Done.' });
    const again = await openai().chat.completions.create({
      model: 'gemini-3-pro-high',
      tools,
      messages: [
        { role: 'user', content: 'lookup y' },
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: call.id, content: 'y found' },
      ],
    });
    expect(again.choices[0]!.message.content).toBe('Done.');
    const fc = streams().at(-1)!.body.request.contents[1].parts[0];
    expect(fc.thoughtSignature).toMatch(/^fsig-/);
    // a call the cache never saw goes back with the documented sentinel instead of failing
    await openai().chat.completions.create({
      model: 'gemini-3-pro-high',
      tools,
      messages: [
        { role: 'user', content: 'lookup z' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_from_elsewhere', type: 'function', function: { name: 'lookup', arguments: '{"q":"z"}' } }] },
        { role: 'tool', tool_call_id: 'call_from_elsewhere', content: 'z' },
      ],
    });
    expect(streams().at(-1)!.body.request.contents[1].parts[0].thoughtSignature).toBe('skip_thought_signature_validator');
  });

  it('Gemini surface answers', async () => {
    fake.setScript({ reply: 'Gemini surface ok.' });
    const r = await new GoogleGenAI({ apiKey: 'sk-cc', httpOptions: { baseUrl: stack.url } }).models.generateContent({ model: 'gemini-3-flash', contents: 'hi' });
    expect(r.text).toBe('Gemini surface ok.');
  });

  it('GET /account-limits: JSON and a table, behind the API key', async () => {
    expect((await fetch(`${stack.url}/account-limits`)).status).toBe(401);
    const json = (await (await fetch(`${stack.url}/account-limits`, { headers: { authorization: 'Bearer sk-cc' } })).json()) as any;
    const alpha = json.data.find((d: any) => d.account === 'cc-1');
    expect(alpha).toMatchObject({ provider: 'cloudcode', project: 'proj-alpha', email: 'user1@example.com' });
    expect(alpha.models).toEqual(expect.arrayContaining([{ model: 'gemini-3-pro-high', remainingFraction: 0.75, resetTime: '2026-11-25T00:00:00Z' }]));
    const table = await (await fetch(`${stack.url}/account-limits?format=table`, { headers: { authorization: 'Bearer sk-cc' } })).text();
    expect(table.split('\n')[0]).toBe('provider\taccount\tmodel\tremaining\tresets at');
    expect(table).toContain('cloudcode\tcc-1\tgemini-3-pro-high\t75%\t2026-11-25T00:00:00Z');
    expect(table).not.toContain('rt-alpha');
  });

  it('admin API: the credential test refreshes the token and names the project; quotas come through /api/limits', async () => {
    const { token } = (await (await fetch(`${stack.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: 'cc-admin' }) })).json()) as any;
    const admin = (p: string, method = 'GET') => fetch(`${stack.url}/api${p}`, { method, headers: { authorization: `Bearer ${token}` } }).then((r) => r.json() as Promise<any>);
    const before = fake.count('/token', accounts[0]!.refresh_token);
    const test = await admin('/accounts/cc-1/test', 'POST');
    expect(test).toMatchObject({ ok: true, detail: 'token refreshed; project proj-alpha' });
    expect(fake.count('/token', accounts[0]!.refresh_token)).toBe(before + 1);
    const limits = await admin('/limits');
    expect(limits.limits.find((l: any) => l.account === 'cc-1').models).toEqual(expect.arrayContaining([{ model: 'gemini-3-pro-high', remainingFraction: 0.75, resetTime: '2026-11-25T00:00:00Z' }]));
    expect(JSON.stringify(limits)).not.toContain('rt-alpha');
  });
});
