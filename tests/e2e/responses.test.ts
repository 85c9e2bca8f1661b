/**
 * The OpenAI Responses surface (POST /v1/responses) driven by the real openai SDK, answered
 * by the openai-compatible provider against the fake OpenAI upstream: non-stream and stream
 * (the exact event sequence), tool calls and their outputs, reasoning, namespaces and custom
 * tools, previous_response_id with the store, GET/DELETE, hosted tools, errors in shape.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { startStack, type TestStack } from '../helpers/server.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai.js';

let upstream: FakeOpenAI;
let stack: TestStack;
const MODEL = 'local-llama';

beforeAll(async () => {
  upstream = await startFakeOpenAI();
  stack = await startStack({ OPENAI_COMPATIBLE_BASE_URL: `${upstream.url}/v1`, OPENAI_COMPATIBLE_MODELS: MODEL, RESPONSES_STORE_MAX_BYTES: '200000' });
});
afterAll(async () => {
  await stack?.close();
  await upstream?.close();
});
beforeEach(() => upstream.setScript({}));

const openai = () => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'x', maxRetries: 0 });
const last = () => upstream.requests.at(-1)!;
const post = (body: unknown) => fetch(`${stack.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** the SSE events of a raw stream, in order */
async function events(res: Response): Promise<{ type: string; sequence_number: number; [k: string]: any }[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((b) => b.includes('data: '))
    .map((b) => {
      const ev = /^event: (.*)$/m.exec(b)?.[1];
      const data = JSON.parse(b.slice(b.indexOf('data: ') + 6));
      expect(data.type).toBe(ev); // the event name and the data's type agree
      return data;
    });
}

describe('Responses API surface', () => {
  it('answers non-stream: instructions as the system prompt, output message, usage with cached and reasoning tokens', async () => {
    upstream.setScript({ reply: 'hello there', usage: { prompt_tokens: 30, completion_tokens: 2, cached_tokens: 8 } });
    const r = await openai().responses.create({ model: MODEL, instructions: 'be brief', input: 'hi', max_output_tokens: 64, temperature: 0.3, store: false });
    expect(r.object).toBe('response');
    expect(r.status).toBe('completed');
    expect(r.output_text).toBe('hello there');
    expect(r.output[0]).toMatchObject({ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'hello there' }] });
    expect(r.usage).toMatchObject({ input_tokens: 30, output_tokens: 2, total_tokens: 32, input_tokens_details: { cached_tokens: 8 }, output_tokens_details: { reasoning_tokens: 0 } });
    expect(last().body).toMatchObject({ model: MODEL, max_tokens: 64, temperature: 0.3, messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hi' }] });
  });

  it('streams the event sequence real clients parse, every event numbered in order', async () => {
    upstream.setScript({ reply: 'one two three', reasoning: 'let me think' });
    const res = await post({ model: MODEL, input: [{ role: 'user', content: [{ type: 'input_text', text: 'count' }] }], stream: true, reasoning: { effort: 'medium', summary: 'auto' }, store: false });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const evs = await events(res);
    expect(evs.map((e) => e.sequence_number)).toEqual(evs.map((_, i) => i));
    const types = evs.map((e) => e.type).filter((t, i, a) => !(t.endsWith('.delta') && a[i - 1] === t));
    expect(types).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.reasoning_summary_part.added',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.done',
      'response.reasoning_summary_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const text = evs.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta).join('');
    expect(text).toBe('one two three');
    const done = evs.at(-1)!.response;
    expect(done.status).toBe('completed');
    expect(done.output.map((o: any) => o.type)).toEqual(['reasoning', 'message']);
    expect(done.output[0].summary).toEqual([{ type: 'summary_text', text: 'let me think' }]);
    expect(done.usage.total_tokens).toBeGreaterThan(0);
  });

  it('the openai SDK stream helper reads the same stream into a final response', async () => {
    upstream.setScript({ reply: 'streamed answer' });
    const stream = openai().responses.stream({ model: MODEL, input: 'go', store: false });
    let deltas = '';
    stream.on('response.output_text.delta', (e) => (deltas += e.delta));
    const final = await stream.finalResponse();
    expect(deltas).toBe('streamed answer');
    expect(final.output_text).toBe('streamed answer');
  });

  it('tool round trip: function tools out, function_call items back, function_call_output in', async () => {
    upstream.setScript({ toolCalls: [{ name: 'get_weather', arguments: '{"city":"Oslo"}' }] });
    const tools = [{ type: 'function' as const, name: 'get_weather', description: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false }];
    const first = await openai().responses.create({ model: MODEL, input: 'weather in Oslo?', tools, tool_choice: 'auto', store: false });
    const call = first.output.find((o) => o.type === 'function_call')!;
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: '{"city":"Oslo"}', status: 'completed' });
    expect(last().body.tools[0]).toMatchObject({ type: 'function', function: { name: 'get_weather' } });
    upstream.setScript({ reply: 'It is sunny.' });
    const second = await openai().responses.create({
      model: MODEL,
      tools,
      store: false,
      input: [
        { role: 'user', content: 'weather in Oslo?' },
        { type: 'function_call', call_id: (call as any).call_id, name: 'get_weather', arguments: '{"city":"Oslo"}' },
        { type: 'function_call_output', call_id: (call as any).call_id, output: '{"sky":"sunny"}' },
      ],
    });
    expect(second.output_text).toBe('It is sunny.');
    const msgs = last().body.messages;
    expect(msgs[1]).toMatchObject({ role: 'assistant', tool_calls: [{ id: (call as any).call_id, function: { name: 'get_weather' } }] });
    expect(msgs[2]).toMatchObject({ role: 'tool', tool_call_id: (call as any).call_id, content: '{"sky":"sunny"}' });
  });

  it('streams a tool call as output_item.added, arguments delta/done, output_item.done; namespaced and custom tools answer in kind', async () => {
    upstream.setScript({ toolCalls: [{ name: 'close_agent', arguments: '{"id":"a1"}' }, { name: 'apply_patch', arguments: '{"input":"*** Begin Patch"}' }] });
    const res = await post({
      model: MODEL,
      stream: true,
      store: false,
      input: 'go',
      tools: [
        { type: 'namespace', name: 'multi_agent_v1', description: 'agents', tools: [{ type: 'function', name: 'close_agent', parameters: { type: 'object', properties: { id: { type: 'string' } } } }] },
        { type: 'custom', name: 'apply_patch', description: 'patch files', format: { type: 'grammar', syntax: 'lark', definition: 'start: "x"' } },
      ],
    });
    const evs = await events(res);
    const done = evs.filter((e) => e.type === 'response.output_item.done' && e.item.type !== 'message').map((e) => e.item);
    expect(done[0]).toMatchObject({ type: 'function_call', name: 'close_agent', namespace: 'multi_agent_v1', arguments: '{"id":"a1"}' });
    expect(done[1]).toMatchObject({ type: 'custom_tool_call', name: 'apply_patch', input: '*** Begin Patch' });
    expect(evs.some((e) => e.type === 'response.function_call_arguments.done' && e.arguments === '{"id":"a1"}')).toBe(true);
    expect(evs.some((e) => e.type === 'response.custom_tool_call_input.done' && e.input === '*** Begin Patch')).toBe(true);
    // the upstream saw plain function tools: the namespace flattened, the custom tool with one string argument
    expect(last().body.tools.map((t: any) => t.function.name)).toEqual(['close_agent', 'apply_patch']);
    expect(last().body.tools[1].function.parameters.required).toEqual(['input']);
  });

  it("Codex's code mode: tools declared in additional_tools input items are offered; calls answer with their namespace; tool_search is not refused", async () => {
    upstream.setScript({ toolCalls: [{ name: 'list_agents', arguments: '{}' }] });
    const res = await post({
      model: MODEL,
      store: false,
      input: [
        {
          type: 'additional_tools',
          role: 'developer',
          tools: [
            { type: 'namespace', name: 'functions', description: '', tools: [{ type: 'custom', name: 'exec', description: 'run JS', format: { type: 'grammar', syntax: 'lark', definition: 'start: /.+/' } }] },
            { type: 'namespace', name: 'collaboration', description: '', tools: [{ type: 'function', name: 'list_agents', parameters: { type: 'object', properties: {} } }] },
          ],
        },
        { role: 'user', content: 'who is there?' },
      ],
      tools: [{ type: 'tool_search' }],
    });
    expect(res.status).toBe(200);
    const out = (await res.json()).output;
    expect(out.find((o: any) => o.type === 'function_call')).toMatchObject({ name: 'list_agents', namespace: 'collaboration' });
    expect(last().body.tools.map((t: any) => t.function.name)).toEqual(['exec', 'list_agents']);
  });

  it('previous_response_id continues a stored conversation; GET and DELETE the stored response; unknown ids are 404', async () => {
    upstream.setScript({ reply: 'I am Ada.' });
    const first = await openai().responses.create({ model: MODEL, input: 'My name is Ada. Who are you?' });
    expect((first as unknown as { store: boolean }).store).toBe(true);
    upstream.setScript({ reply: 'Your name is Ada.' });
    const second = await openai().responses.create({ model: MODEL, input: 'What is my name?', previous_response_id: first.id });
    expect(second.previous_response_id).toBe(first.id);
    expect(last().body.messages).toEqual([
      { role: 'user', content: 'My name is Ada. Who are you?' },
      { role: 'assistant', content: 'I am Ada.' },
      { role: 'user', content: 'What is my name?' },
    ]);
    const got = await openai().responses.retrieve(second.id);
    expect(got.output_text).toBe('Your name is Ada.');
    const del = await fetch(`${stack.url}/v1/responses/${first.id}`, { method: 'DELETE' });
    expect(await del.json()).toEqual({ id: first.id, object: 'response', deleted: true });
    const again = await post({ model: MODEL, input: 'and now?', previous_response_id: first.id });
    expect(again.status).toBe(404);
    expect(await again.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'previous_response_not_found', param: 'previous_response_id' } });
    const missing = await fetch(`${stack.url}/v1/responses/resp_nope`);
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe('response_not_found');
    // store: false is never stored
    const unstored = await openai().responses.create({ model: MODEL, input: 'x', store: false });
    expect((await fetch(`${stack.url}/v1/responses/${unstored.id}`)).status).toBe(404);
  });

  it('mid-conversation developer messages reach the provider, never dropped; text.format json_schema goes upstream as response_format', async () => {
    upstream.setScript({ reply: '{"a":1}' });
    await openai().responses.create({
      model: MODEL,
      store: false,
      input: [
        { role: 'developer', content: 'lead' },
        { role: 'user', content: 'q1' },
        { role: 'developer', content: 'mid-conversation rule' },
        { role: 'user', content: 'q2' },
      ],
      text: { format: { type: 'json_schema', name: 'thing', schema: { type: 'object', properties: { a: { type: 'number' } } }, strict: true } },
    });
    const body = last().body;
    expect(body.messages[0]).toEqual({ role: 'system', content: 'lead' });
    expect(JSON.stringify(body.messages)).toContain('mid-conversation rule');
    expect(body.response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'thing', strict: true } });
  });

  it('refuses what it cannot do, in the Responses error shape: hosted tools the provider cannot run, wrong types, files it cannot read', async () => {
    const cases: [unknown, number, string][] = [
      [{ model: MODEL, input: 'x', tools: [{ type: 'web_search' }] }, 400, 'tools'],
      [{ model: MODEL, input: 'x', tools: [{ type: 'function', name: 5 }] }, 400, 'tools[0].name'],
      [{ model: MODEL, input: 'x', max_output_tokens: 'many' }, 400, 'max_output_tokens'],
      [{ model: MODEL, input: [{ type: 'function_call', name: 'f' }] }, 400, 'input[0].call_id'],
      [{ model: MODEL, input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'file-1' }] }] }, 400, 'input[0].content[0]'],
      [{ model: MODEL, input: 'x', background: true }, 400, 'background'],
      [{ model: MODEL }, 400, 'input'],
    ];
    for (const [body, status, param] of cases) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      const err = (await res.json()).error;
      expect(err).toMatchObject({ type: 'invalid_request_error', param });
      expect(typeof err.message).toBe('string');
    }
    const web = await (await post({ model: MODEL, input: 'x', tools: [{ type: 'web_search' }] })).json();
    expect(web.error.message).toMatch(/web_search.*cannot run/);
  });

  it('accepts fields it does not act on and fields nobody knows yet (what Codex sends)', async () => {
    upstream.setScript({ reply: 'ok' });
    const res = await post({
      model: MODEL,
      input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] }, { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'opaque' }, { type: 'compaction', encrypted_content: 'x' }],
      include: ['reasoning.encrypted_content'],
      prompt_cache_key: 'k1',
      client_metadata: { a: 'b' },
      service_tier: 'auto',
      a_field_from_the_future: { x: 1 },
      store: false,
    });
    expect(res.status).toBe(200);
    expect((await res.json()).output[0].content[0].text).toBe('ok');
  });
});
