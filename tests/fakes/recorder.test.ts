/**
 * The recording fake itself: driven with fetch in each dialect, it keeps what it was sent and
 * answers with the stream shapes real clients expect (plain text, a tool call when the marker is
 * seen and the tool is offered, "done" once a tool result comes back, JSON for a schema).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRecorder, type Recorder } from './recorder.js';

let rec: Recorder;

beforeAll(async () => {
  rec = await startRecorder({ tool: { name: 'Bash', input: { command: 'echo hi' } }, text: 'hello there' });
});
afterAll(async () => {
  await rec?.close();
});

/** SSE frames as { event?, data } (data parsed as JSON unless it is [DONE]) */
async function sse(res: Response): Promise<{ event?: string; data: any }[]> {
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const text = await res.text();
  return text
    .split(/\r?\n\r?\n/)
    .filter((f) => f.trim())
    .map((frame) => {
      const lines = frame.split(/\r?\n/);
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
      const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      return { ...(event ? { event } : {}), data: data === '[DONE]' ? data : JSON.parse(data) };
    });
}

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${rec.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('recorder', () => {
  it('answers HEAD / and GET / with 200 and records them', async () => {
    rec.reset();
    expect((await fetch(`${rec.url}/`, { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(`${rec.url}/`)).status).toBe(200);
    expect(rec.requests.map((r) => [r.method, r.path, r.answer])).toEqual([
      ['HEAD', '/', 'other'],
      ['GET', '/', 'other'],
    ]);
  });

  it('Anthropic Messages: text, then tool_use via input_json_delta, then "done" after the tool_result', async () => {
    rec.reset();
    rec.setScript({ tool: { name: 'Bash', input: { command: 'echo hi' } }, text: 'hello there' });
    const tools = [{ name: 'Bash', input_schema: { type: 'object' } }];

    const text = await sse(await post('/v1/messages?beta=true', { model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }], tools }, { 'x-api-key': 'k' }));
    expect(text.map((f) => f.event)).toEqual([
      'message_start', 'content_block_start', 'ping', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop',
    ]);
    expect(text.every((f) => f.data.type === f.event)).toBe(true);
    expect(text.filter((f) => f.event === 'content_block_delta').map((f) => f.data.delta.text).join('')).toBe('hello there');
    expect(text.find((f) => f.event === 'message_delta')!.data.delta.stop_reason).toBe('end_turn');

    // the marker in the latest user turn, with a mid-conversation system message after it (Claude Code's default model)
    const ask = { model: 'm', stream: true, tools, messages: [{ role: 'user', content: [{ type: 'text', text: 'USE_TOOL please' }] }, { role: 'system', content: 'agents' }] };
    const tool = await sse(await post('/v1/messages', ask));
    const start = tool.find((f) => f.event === 'content_block_start')!.data.content_block;
    expect(start).toMatchObject({ type: 'tool_use', name: 'Bash', input: {} });
    const json = tool.filter((f) => f.data.delta?.type === 'input_json_delta').map((f) => f.data.delta.partial_json).join('');
    expect(JSON.parse(json)).toEqual({ command: 'echo hi' });
    expect(tool.find((f) => f.event === 'message_delta')!.data.delta.stop_reason).toBe('tool_use');

    const result = {
      ...ask,
      messages: [...ask.messages, { role: 'assistant', content: [{ type: 'tool_use', id: start.id, name: 'Bash', input: { command: 'echo hi' } }] }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: start.id, content: 'hi' }] }],
    };
    const done = await sse(await post('/v1/messages', result));
    expect(done.filter((f) => f.event === 'content_block_delta').map((f) => f.data.delta.text).join('')).toBe('done');

    // not streamed: one message
    const once = await (await post('/v1/messages', { model: 'm', messages: [{ role: 'user', content: 'hi' }] })).json();
    expect(once).toMatchObject({ type: 'message', role: 'assistant', content: [{ type: 'text', text: 'hello there' }], stop_reason: 'end_turn' });

    expect(rec.requests.map((r) => [r.dialect, r.answer])).toEqual([
      ['anthropic', 'text'], ['anthropic', 'tool'], ['anthropic', 'done'], ['anthropic', 'text'],
    ]);
    expect(rec.requests[0]).toMatchObject({ path: '/v1/messages', query: { beta: 'true' } });
    expect(rec.requests[0]!.headers['x-api-key']).toBe('k');
  });

  it('a marker without the scripted tool on offer (a title call) gets plain text', async () => {
    rec.reset();
    const frames = await sse(await post('/v1/messages', { model: 'm', stream: true, messages: [{ role: 'user', content: 'USE_TOOL title please' }] }));
    expect(frames.filter((f) => f.event === 'content_block_delta').map((f) => f.data.delta.text).join('')).toBe('hello there');
    expect(rec.requests[0]!.answer).toBe('text');
  });

  it('OpenAI chat completions: role first, tool_calls in pieces, finish_reason, usage when asked, [DONE]', async () => {
    rec.reset();
    rec.setScript({ tool: { name: 'bash', input: { command: 'echo hi' } } });
    const tools = [{ type: 'function', function: { name: 'bash', parameters: { type: 'object' } } }];
    const frames = await sse(await post('/v1/chat/completions', { model: 'm', stream: true, stream_options: { include_usage: true }, tools, messages: [{ role: 'user', content: 'USE_TOOL now' }] }));
    expect(frames.at(-1)!.data).toBe('[DONE]');
    const chunks = frames.slice(0, -1).map((f) => f.data);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'bash' } });
    expect(calls[0].id).toMatch(/^call_/);
    expect(JSON.parse(calls.map((c: any) => c.function.arguments).join(''))).toEqual({ command: 'echo hi' });
    expect(chunks.find((c) => c.choices[0]?.finish_reason)!.choices[0].finish_reason).toBe('tool_calls');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 } });

    // tool result -> "done"; no include_usage -> no usage chunk
    const id = calls[0].id;
    const messages = [{ role: 'user', content: 'USE_TOOL now' }, { role: 'assistant', content: null, tool_calls: [{ id, type: 'function', function: { name: 'bash', arguments: '{}' } }] }, { role: 'tool', tool_call_id: id, content: 'hi' }];
    const done = (await sse(await post('/v1/chat/completions', { model: 'm', stream: true, tools, messages }))).slice(0, -1).map((f) => f.data);
    expect(done.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('done');
    expect(done.at(-1).choices[0].finish_reason).toBe('stop');
    expect(done.some((c) => c.usage)).toBe(false);

    // response_format json_schema -> JSON made from the schema
    const schema = { type: 'object', properties: { title: { type: 'string' }, n: { type: 'integer' } } };
    const json = await (await post('/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'title?' }], response_format: { type: 'json_schema', json_schema: { name: 't', schema } } })).json();
    expect(JSON.parse(json.choices[0].message.content)).toEqual({ title: 'ok', n: 1 });
    expect(rec.requests.map((r) => r.answer)).toEqual(['tool', 'done', 'json']);
  });

  it('OpenAI Responses: created, in_progress, item/part/text events with sequence numbers, completed with usage', async () => {
    rec.reset();
    rec.setScript({ text: 'hi there' });
    const frames = await sse(await post('/v1/responses', { model: 'm', stream: true, input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello' }] }] }));
    expect(frames.map((f) => f.event)).toEqual([
      'response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added',
      'response.output_text.delta', 'response.output_text.delta', 'response.output_text.done', 'response.content_part.done',
      'response.output_item.done', 'response.completed',
    ]);
    expect(frames.map((f) => f.data.sequence_number)).toEqual(frames.map((_, i) => i));
    expect(frames.every((f) => f.data.type === f.event)).toBe(true);
    const completed = frames.at(-1)!.data.response;
    expect(completed).toMatchObject({ object: 'response', status: 'completed', output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'hi there' }] }] });
    expect(completed.usage).toEqual({ input_tokens: 12, input_tokens_details: { cached_tokens: 0 }, output_tokens: 3, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 15 });
  });

  it('OpenAI Responses: a function_call item (tools offered in a namespace or in additional_tools), then "done" after its output', async () => {
    rec.reset();
    rec.setScript({ tool: { name: 'exec_command', input: { cmd: 'echo hi' } } });
    const user = { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'USE_TOOL go' }] };
    const tools = [{ type: 'namespace', name: 'shell', tools: [{ type: 'function', name: 'exec_command' }] }];
    const frames = await sse(await post('/v1/responses', { model: 'm', stream: true, tools, input: [user] }));
    const item = frames.find((f) => f.event === 'response.output_item.done')!.data.item;
    expect(item).toMatchObject({ type: 'function_call', name: 'exec_command', arguments: '{"cmd":"echo hi"}', status: 'completed' });
    expect(item.call_id).toBeTruthy();
    expect(frames.map((f) => f.event)).toContain('response.function_call_arguments.done');
    expect(frames.at(-1)!.data.response.output).toEqual([item]);

    const input = [user, item, { type: 'function_call_output', call_id: item.call_id, output: 'hi' }];
    const done = await sse(await post('/v1/responses', { model: 'm', stream: true, tools, input }));
    expect(done.find((f) => f.event === 'response.output_text.done')!.data.text).toBe('done');

    // Codex code mode: tools in an additional_tools input item, a freeform (custom) tool
    rec.setScript({ tool: { name: 'exec', input: {}, custom: 'text(1)' } });
    const extra = { type: 'additional_tools', role: 'developer', tools: [{ type: 'namespace', name: 'functions', tools: [{ type: 'custom', name: 'exec' }] }] };
    const custom = await sse(await post('/v1/responses', { model: 'm', stream: true, input: [extra, user] }));
    expect(custom.find((f) => f.event === 'response.output_item.done')!.data.item).toMatchObject({ type: 'custom_tool_call', name: 'exec', input: 'text(1)' });
    expect(custom.map((f) => f.event)).toContain('response.custom_tool_call_input.done');
    expect(rec.requests.map((r) => r.answer)).toEqual(['tool', 'done', 'tool']);
  });

  it('Gemini streamGenerateContent (alt=sse): text chunks, a functionCall part, STOP with usage; countTokens; JSON by schema', async () => {
    rec.reset();
    rec.setScript({ tool: { name: 'read_file', input: { file_path: 'a.txt' } }, text: 'hi there' });
    const tools = [{ functionDeclarations: [{ name: 'read_file' }] }];
    const path = '/v1beta/models/gemini-x:streamGenerateContent?alt=sse';
    const text = (await sse(await post(path, { contents: [{ role: 'user', parts: [{ text: 'hello' }] }], tools }))).map((f) => f.data);
    expect(text.map((c) => c.candidates[0].content.parts[0].text).join('')).toBe('hi there');
    expect(text.at(-1)).toMatchObject({ candidates: [{ finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 3, totalTokenCount: 15 } });

    const ask = { role: 'user', parts: [{ text: 'USE_TOOL read it' }] };
    const call = (await sse(await post(path, { contents: [ask], tools }))).map((f) => f.data);
    expect(call).toHaveLength(1);
    expect(call[0].candidates[0].content.parts[0]).toEqual({ functionCall: { name: 'read_file', args: { file_path: 'a.txt' } } });

    const contents = [ask, { role: 'model', parts: call[0].candidates[0].content.parts }, { role: 'user', parts: [{ functionResponse: { name: 'read_file', response: { output: 'x' } } }] }];
    const done = (await sse(await post(path, { contents, tools }))).map((f) => f.data);
    expect(done.map((c) => c.candidates[0].content.parts[0].text).join('')).toBe('done');

    const tokens = await (await post('/v1beta/models/gemini-x:countTokens', { contents: [ask] })).json();
    expect(tokens).toEqual({ totalTokens: 12 });

    // Gemini CLI's model router asks for JSON by schema (upper-case types)
    const schema = { type: 'OBJECT', properties: { complexity_reasoning: { type: 'STRING' }, complexity_score: { type: 'INTEGER' } } };
    const routed = await (await post('/v1beta/models/gemini-lite:generateContent', { contents: [ask], generationConfig: { responseMimeType: 'application/json', responseJsonSchema: schema } })).json();
    expect(JSON.parse(routed.candidates[0].content.parts[0].text)).toEqual({ complexity_reasoning: 'ok', complexity_score: 1 });

    expect(rec.requests.map((r) => [r.dialect, r.answer])).toEqual([
      ['gemini', 'text'], ['gemini', 'tool'], ['gemini', 'done'], ['gemini', 'other'], ['gemini', 'json'],
    ]);
    expect(rec.requests[0]!.query).toEqual({ alt: 'sse' });
  });

  it('unknown routes get a 404 and are still recorded', async () => {
    rec.reset();
    const res = await post('/nope', { a: 1 });
    expect(res.status).toBe(404);
    expect(rec.requests[0]).toMatchObject({ method: 'POST', path: '/nope', dialect: 'other', body: { a: 1 } });
  });
});
