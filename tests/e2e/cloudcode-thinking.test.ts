/**
 * Claude thinking with tool use through Cloud Code, when the client drops the thinking
 * (issue 23). The fake refuses what Anthropic's API refuses: with thinking on, a turn of the
 * current tool loop that called a tool must start with its signed thinking (signature and
 * text as issued, Claude's own). Covered: the OpenAI SDK over 2 and 3 tool turns (plain and
 * streamed) and with parallel calls, the Responses surface (reasoning items with
 * encrypted_content and no summary), the Gemini surface without thought parts, a restart
 * (nothing to restore: thinking off for the rest of the tool loop), the same thinking text
 * in Claude and Gemini conversations, and two instances sharing Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { startStack, type TestStack } from '../helpers/server.js';
import { hasRedisServer, startRedis, type TestRedis } from '../helpers/redis.js';
import { OAUTH, startFakeCloud, type FakeCloud, cloudcodeEnv } from '../fakes/cloudcode.js';

const CLAUDE = 'claude-sonnet-4-5-thinking';
const GEMINI = 'gemini-3-pro-high';
const RT = '1//rt-think';
const PROJECT = 'proj-think';
const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'lookup', description: 'Look something up', parameters: { type: 'object', properties: { step: { type: 'number' } } } } }];

let fake: FakeCloud;
const dirs: string[] = [];

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cligate-cc-think-'));
  dirs.push(dir);
  await writeFile(path.join(dir, 'accounts.json'), JSON.stringify({ accounts: [{ id: 'cc-1', provider: 'cloudcode', credentials: { refresh_token: RT, project_id: PROJECT } }] }));
  return dir;
}

async function stackOn(dir: string, extra: Record<string, string> = {}): Promise<TestStack> {
  return startStack({
    DATA_DIR: dir,
    ...cloudcodeEnv(fake),
    ...extra,
  });
}

const client = (s: TestStack) => new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'x', maxRetries: 0 });
const lastBody = () => fake.calls.filter((c) => c.path.endsWith('streamGenerateContent')).at(-1)!.body;
const claudeThought = (text: string) => fake.thoughts.filter((t) => t.text === text && t.model.startsWith('claude-'));

interface Turn {
  content: string | null;
  reasoning: string;
  toolCalls: OpenAI.ChatCompletionMessageFunctionToolCall[];
}

/** one request; a streamed answer is put together as a client does */
async function ask(s: TestStack, model: string, messages: OpenAI.ChatCompletionMessageParam[], stream = false): Promise<Turn> {
  if (!stream) {
    const r = await client(s).chat.completions.create({ model, tools, messages });
    const m = r.choices[0]!.message as OpenAI.ChatCompletionMessage & { reasoning_content?: string };
    return { content: m.content, reasoning: m.reasoning_content ?? '', toolCalls: (m.tool_calls ?? []) as OpenAI.ChatCompletionMessageFunctionToolCall[] };
  }
  const out: Turn = { content: null, reasoning: '', toolCalls: [] };
  for await (const chunk of await client(s).chat.completions.create({ model, tools, messages, stream: true })) {
    const d = chunk.choices[0]?.delta as (OpenAI.ChatCompletionChunk.Choice.Delta & { reasoning_content?: string }) | undefined;
    if (!d) continue;
    if (d.reasoning_content) out.reasoning += d.reasoning_content;
    if (d.content) out.content = (out.content ?? '') + d.content;
    for (const c of d.tool_calls ?? []) {
      const t = (out.toolCalls[c.index] ??= { id: '', type: 'function', function: { name: '', arguments: '' } });
      if (c.id) t.id = c.id;
      if (c.function?.name) t.function.name += c.function.name;
      if (c.function?.arguments) t.function.arguments += c.function.arguments;
    }
  }
  return out;
}

/** the assistant message as Cline, Roo, Kilo and the OpenAI SDK send it back: no reasoning_content */
const asClientSendsIt = (t: Turn): OpenAI.ChatCompletionAssistantMessageParam => ({ role: 'assistant', content: t.content, tool_calls: t.toolCalls });

/**
 * A task of `turns` tool calls, then the answer; each turn's thinking text is its own.
 * Returns the thinking texts of the tool turns in order.
 */
async function toolLoop(s: TestStack | TestStack[], task: string, turns: number, opts: { stream?: boolean; parallel?: boolean } = {}): Promise<string[]> {
  const stacks = Array.isArray(s) ? s : [s];
  const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: task }];
  const texts: string[] = [];
  for (let i = 0; i <= turns; i++) {
    const last = i === turns;
    const thinking = `${task}: thinking before step ${i}.`;
    fake.setScript(last ? { thinking, reply: 'All done.' } : { thinking, reply: `Step ${i}.`, toolCall: { name: 'lookup', args: { step: i } }, ...(opts.parallel ? { toolCalls: [{ name: 'lookup', args: { step: i, again: true } }] } : {}) });
    const t = await ask(stacks[i % stacks.length]!, CLAUDE, messages, opts.stream);
    expect(t.reasoning).toBe(thinking); // the client saw the thinking, then drops it
    if (last) {
      expect(t.content).toBe('All done.');
      break;
    }
    texts.push(thinking);
    expect(t.toolCalls).toHaveLength(opts.parallel ? 2 : 1);
    messages.push(asClientSendsIt(t));
    for (const c of t.toolCalls) messages.push({ role: 'tool', tool_call_id: c.id, content: `result of ${c.id}` });
  }
  return texts;
}

/** every tool-call turn of the last upstream request starts with the signed thinking the fake issued for it */
function expectThinkingRestored(texts: string[]): void {
  const body = lastBody();
  expect(body.request.generationConfig.thinkingConfig).toMatchObject({ includeThoughts: true });
  const modelTurns = body.request.contents.filter((c: any) => c.role === 'model');
  expect(modelTurns).toHaveLength(texts.length);
  modelTurns.forEach((turn: any, i: number) => {
    const issued = claudeThought(texts[i]!);
    expect(issued).toHaveLength(1);
    expect(turn.parts[0]).toEqual({ text: texts[i], thought: true, thoughtSignature: issued[0]!.signature });
    // in its place: before the text and the calls of that turn
    expect(turn.parts.slice(1).map((p: any) => Object.keys(p).filter((k) => k !== 'thoughtSignature')[0])).toEqual(expect.arrayContaining(['text', 'functionCall']));
    expect(turn.parts.filter((p: any) => p.thought)).toHaveLength(1);
  });
}

beforeAll(async () => {
  fake = await startFakeCloud([{ refresh_token: RT, project: PROJECT }]);
});
afterAll(async () => {
  await fake?.close();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('Cloud Code: thinking a client dropped, one instance', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await stackOn(await dataDir());
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('the fake refuses what Anthropic refuses: a tool-call turn without its thinking while thinking is on', async () => {
    const token = ((await (await fetch(`${fake.url}/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: RT, client_id: OAUTH.clientId, client_secret: OAUTH.clientSecret }) })).json()) as any).access_token;
    const send = (generationConfig: object) =>
      fetch(`${fake.roots[0]}/v1internal:streamGenerateContent?alt=sse`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          project: PROJECT,
          model: CLAUDE,
          userAgent: 'antigravity',
          request: {
            contents: [
              { role: 'user', parts: [{ text: 'find x' }] },
              { role: 'model', parts: [{ functionCall: { id: 'toolu_1', name: 'lookup', args: {} } }] },
              { role: 'user', parts: [{ functionResponse: { id: 'toolu_1', name: 'lookup', response: { output: 'x' } } }] },
            ],
            generationConfig,
          },
        }),
      });
    const refused = await send({ thinkingConfig: { includeThoughts: true, thinkingBudget: 16000 } });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as any).error.message).toContain('Expected `thinking` or `redacted_thinking`, but found `tool_use`');
    const accepted = await send({});
    expect(accepted.status).toBe(200);
    await accepted.text();
  });

  it('OpenAI SDK, reasoning_content dropped: two tool turns, each sent back with its signed thinking', async () => {
    const texts = await toolLoop(stack, 'two-step task', 2);
    expectThinkingRestored(texts);
  });

  it('OpenAI SDK streaming, reasoning_content dropped: three tool turns', async () => {
    const texts = await toolLoop(stack, 'three-step task', 3, { stream: true });
    expectThinkingRestored(texts);
  });

  it('parallel calls: the turn gets its thinking once, before both calls', async () => {
    const texts = await toolLoop(stack, 'parallel task', 2, { parallel: true });
    expectThinkingRestored(texts);
    for (const turn of lastBody().request.contents.filter((c: any) => c.role === 'model')) expect(turn.parts.filter((p: any) => p.functionCall)).toHaveLength(2);
  });

  it('a client that sends reasoning_content back without a signature gets it signed', async () => {
    fake.setScript({ thinking: 'Kept by the client.', reply: 'Step.', toolCall: { name: 'lookup', args: {} } });
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'client keeps reasoning' }];
    const t = await ask(stack, CLAUDE, messages);
    messages.push({ ...asClientSendsIt(t), reasoning_content: t.reasoning } as OpenAI.ChatCompletionAssistantMessageParam, { role: 'tool', tool_call_id: t.toolCalls[0]!.id, content: 'r' });
    fake.setScript({ thinking: 'Then answer.', reply: 'Answered.' });
    expect((await ask(stack, CLAUDE, messages)).content).toBe('Answered.');
    expectThinkingRestored(['Kept by the client.']);
  });

  it('Responses: a reasoning item with encrypted_content and no summary gets its text back', async () => {
    fake.setScript({ thinking: 'Responses thinking.', reply: 'Looking.', toolCall: { name: 'lookup', args: { step: 0 } } });
    const post = async (input: unknown[]) => {
      const r = await fetch(`${stack.url}/v1/responses`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: CLAUDE, store: false, include: ['reasoning.encrypted_content'], tools: [{ type: 'function', name: 'lookup', parameters: { type: 'object', properties: {} } }], input }),
      });
      expect(r.status).toBe(200);
      return (await r.json()) as { output: any[] };
    };
    const user = { role: 'user', content: [{ type: 'input_text', text: 'responses task' }] };
    const first = await post([user]);
    const reasoning = first.output.find((o) => o.type === 'reasoning');
    expect(reasoning).toMatchObject({ summary: [], encrypted_content: claudeThought('Responses thinking.')[0]!.signature });
    const call = first.output.find((o) => o.type === 'function_call');
    fake.setScript({ thinking: 'Done.', reply: 'Found.' });
    const second = await post([user, ...first.output, { type: 'function_call_output', call_id: call.call_id, output: 'it' }]);
    expect(second.output.find((o) => o.type === 'message').content[0].text).toBe('Found.');
    expectThinkingRestored(['Responses thinking.']);
  });

  it('Gemini surface without thought parts: the model turn gets its thinking back', async () => {
    fake.setScript({ thinking: 'Gemini-dialect thinking.', reply: 'Checking.', toolCall: { name: 'lookup', args: { step: 0 } } });
    const post = async (contents: unknown[]) => {
      const r = await fetch(`${stack.url}/v1beta/models/${CLAUDE}:generateContent`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ contents, tools: [{ functionDeclarations: [{ name: 'lookup', parameters: { type: 'object', properties: {} } }] }] }),
      });
      expect(r.status).toBe(200);
      return (await r.json()) as any;
    };
    const user = { role: 'user', parts: [{ text: 'gemini dialect task' }] };
    const first = await post([user]);
    const call = first.candidates[0].content.parts.find((p: any) => p.functionCall).functionCall;
    fake.setScript({ thinking: 'Done.', reply: 'Checked.' });
    const second = await post([user, { role: 'model', parts: [{ text: 'Checking.' }, { functionCall: call }] }, { role: 'user', parts: [{ functionResponse: { id: call.id, name: call.name, response: { output: 'ok' } } }] }]);
    expect(second.candidates[0].content.parts.map((p: any) => p.text).join('')).toContain('Checked.');
    expectThinkingRestored(['Gemini-dialect thinking.']);
  });

  it('same thinking text in a Claude and a Gemini conversation: each keeps its own signature', async () => {
    const same = 'The very same thought.';
    // both orders: the conversation written last would have won in a cache keyed by text alone
    for (const order of [[CLAUDE, GEMINI], [GEMINI, CLAUDE]]) {
      const convs = order.map((model) => ({ model, messages: [{ role: 'user', content: `conversation on ${model}, ${order.join(' then ')}` }] as OpenAI.ChatCompletionMessageParam[], signature: '' }));
      for (const c of convs) {
        fake.setScript({ thinking: same, reply: 'Checking.', toolCall: { name: 'lookup', args: {} } });
        const t = await ask(stack, c.model, c.messages);
        c.signature = fake.thoughts.at(-1)!.signature;
        expect(fake.thoughts.at(-1)).toMatchObject({ text: same, model: c.model });
        // this client keeps reasoning_content (without a signature: OpenAI chat has none)
        c.messages.push({ ...asClientSendsIt(t), reasoning_content: t.reasoning } as OpenAI.ChatCompletionAssistantMessageParam, { role: 'tool', tool_call_id: t.toolCalls[0]!.id, content: 'r' });
      }
      for (const c of convs) {
        fake.setScript({ reply: 'Answer.' });
        expect((await ask(stack, c.model, c.messages)).content).toBe('Answer.');
        const turn = lastBody().request.contents.find((x: any) => x.role === 'model');
        expect(turn.parts[0]).toEqual({ text: same, thought: true, thoughtSignature: c.signature });
      }
    }
  });

  it('same thinking text in two Claude conversations: each keeps its own signature', async () => {
    const same = 'One thought, two conversations.';
    const convs = [1, 2].map((n) => ({ messages: [{ role: 'user', content: `claude conversation ${n}` }] as OpenAI.ChatCompletionMessageParam[], signature: '' }));
    for (const c of convs) {
      fake.setScript({ thinking: same, reply: 'Checking.', toolCall: { name: 'lookup', args: {} } });
      const t = await ask(stack, CLAUDE, c.messages);
      c.signature = fake.thoughts.at(-1)!.signature;
      c.messages.push({ ...asClientSendsIt(t), reasoning_content: t.reasoning } as OpenAI.ChatCompletionAssistantMessageParam, { role: 'tool', tool_call_id: t.toolCalls[0]!.id, content: 'r' });
    }
    expect(convs[0]!.signature).not.toBe(convs[1]!.signature);
    for (const c of convs) {
      fake.setScript({ reply: 'Answer.' });
      await ask(stack, CLAUDE, c.messages);
      expect(lastBody().request.contents[1].parts[0].thoughtSignature).toBe(c.signature);
    }
  });
});

describe('Cloud Code: nothing to restore after a restart', () => {
  it('the tool loop goes on with thinking off (what the upstream accepts); a new user turn thinks again', async () => {
    const dir = await dataDir();
    const before = await stackOn(dir);
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'task across a restart' }];
    let t: Turn;
    try {
      fake.setScript({ thinking: 'Before the restart.', reply: 'Step 0.', toolCall: { name: 'lookup', args: { step: 0 } } });
      t = await ask(before, CLAUDE, messages);
      expect(t.reasoning).toBe('Before the restart.');
    } finally {
      await before.close();
    }
    const after = await stackOn(dir);
    try {
      messages.push(asClientSendsIt(t), { role: 'tool', tool_call_id: t.toolCalls[0]!.id, content: 'r0' });
      fake.setScript({ thinking: 'Not asked for.', reply: 'Step 1.', toolCall: { name: 'lookup', args: { step: 1 } } });
      t = await ask(after, CLAUDE, messages);
      expect(t.toolCalls).toHaveLength(1);
      expect(t.reasoning).toBe(''); // thinking was off for this request
      let body = lastBody().request;
      expect(body.generationConfig.thinkingConfig).toBeUndefined();
      expect(JSON.stringify(body.contents)).not.toContain('"thought"');

      // still the same tool loop: its turns have no thinking, so thinking stays off
      messages.push(asClientSendsIt(t), { role: 'tool', tool_call_id: t.toolCalls[0]!.id, content: 'r1' });
      fake.setScript({ thinking: 'Not asked for either.', reply: 'Done with the tools.' });
      t = await ask(after, CLAUDE, messages);
      expect(t.content).toBe('Done with the tools.');
      expect(lastBody().request.generationConfig.thinkingConfig).toBeUndefined();

      // a new user turn ends the loop: thinking is back on
      messages.push({ role: 'assistant', content: t.content }, { role: 'user', content: 'and now?' });
      fake.setScript({ thinking: 'Thinking again.', reply: 'Next.', toolCall: { name: 'lookup', args: { step: 2 } } });
      t = await ask(after, CLAUDE, messages);
      expect(t.reasoning).toBe('Thinking again.');
      body = lastBody().request;
      expect(body.generationConfig.thinkingConfig).toMatchObject({ includeThoughts: true });
      messages.push(asClientSendsIt(t), { role: 'tool', tool_call_id: t.toolCalls[0]!.id, content: 'r2' });
      fake.setScript({ thinking: 'Last.', reply: 'Finished.' });
      expect((await ask(after, CLAUDE, messages)).content).toBe('Finished.');
      body = lastBody().request;
      expect(body.generationConfig.thinkingConfig).toMatchObject({ includeThoughts: true });
      expect(body.contents.at(-2).parts[0]).toMatchObject({ text: 'Thinking again.', thought: true, thoughtSignature: claudeThought('Thinking again.')[0]!.signature });
    } finally {
      await after.close();
    }
  }, 60_000);
});

const redisAvailable = hasRedisServer();
if (!redisAvailable && process.env.CI) throw new Error('redis-server is missing: .ci/run installs it');

describe.skipIf(!redisAvailable)('Cloud Code: two instances sharing Redis', () => {
  let redis: TestRedis;
  let a: TestStack;
  let b: TestStack;
  beforeAll(async () => {
    redis = await startRedis();
    a = await stackOn(await dataDir(), { REDIS_URL: redis.url, REDIS_PREFIX: 'cc-test:' });
    b = await stackOn(await dataDir(), { REDIS_URL: redis.url, REDIS_PREFIX: 'cc-test:' });
  }, 60_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.close();
  });

  it('each turn lands on the other instance and still goes out with its signed thinking', async () => {
    const two = await toolLoop([a, b], 'two instances, two steps', 2);
    expectThinkingRestored(two);
    const three = await toolLoop([b, a], 'two instances, three steps', 3, { stream: true });
    expectThinkingRestored(three);
  });

  it('the entries live in Redis under the prefix, with a lifetime', async () => {
    const keys = await redis.client.keys('cc-test:cloudcode:turn:claude:*');
    expect(keys.length).toBeGreaterThanOrEqual(5);
    for (const k of keys) {
      const ttl = await redis.client.pttl(k);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(6 * 3_600_000);
    }
  });
});
