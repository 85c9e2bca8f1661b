/**
 * Client tools over a CLI provider, in all three dialects, with the real claude CLI
 * between cligate and a fake Anthropic upstream. The fake plays a model that follows
 * the emulation prompt: it calls get_weather when the tools are offered and no result
 * is in the conversation yet, and answers from the result once it is.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI, FunctionCallingConfigMode } from '@google/genai';
import { startStack, type TestStack } from '../helpers/server.js';

let stack: TestStack;
const KEY = 'sk-tools';

const CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}\n</tool_call>';

function systemOf(body: any): string {
  if (typeof body.system === 'string') return body.system;
  return ((body.system ?? []) as { text?: string }[]).map((b) => b.text ?? '').join('\n');
}

/** the model the fake plays */
function weatherModel(prompt: string, body: any): string {
  const sys = systemOf(body);
  if (!sys.includes('<tools>')) return 'No tools were offered to me.';
  if (prompt.includes('<tool_result')) {
    const m = /<tool_result name="get_weather"[^>]*>\n([\s\S]*?)\n<\/tool_result>/.exec(prompt);
    return `The weather service says: ${m?.[1] ?? 'nothing'}`;
  }
  return `Let me look that up.\n${CALL}`;
}

const weatherTool = {
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } }, required: ['city'] },
};

beforeAll(async () => {
  stack = await startStack({ API_KEY: KEY });
  stack.fake.setScript({ reply: weatherModel });
});
afterAll(async () => stack?.close());

function lastUpstream(): { system: string; prompt: string } {
  const r = [...stack.fake.requests].reverse().find((x) => x.path === '/v1/messages');
  const body = r!.body;
  const user = [...body.messages].reverse().find((m: any) => m.role === 'user');
  const prompt = typeof user.content === 'string' ? user.content : user.content.map((p: any) => p.text ?? '').join('\n');
  return { system: systemOf(body), prompt };
}

describe('OpenAI dialect: tools -> tool_calls -> tool result -> answer', () => {
  const client = () => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: KEY, maxRetries: 0 });
  const tools = [{ type: 'function' as const, function: weatherTool }];

  it('non-stream: the call comes back as tool_calls with finish_reason tool_calls; the tools reached the model', async () => {
    const r = await client().chat.completions.create({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools });
    const choice = r.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBe('Let me look that up.\n');
    expect(choice.message.tool_calls).toHaveLength(1);
    const call = choice.message.tool_calls![0]!;
    expect(call.type).toBe('function');
    expect(call.id).toMatch(/^call_[A-Za-z0-9]{24}$/);
    if (call.type !== 'function') throw new Error('not a function call');
    expect(call.function.name).toBe('get_weather');
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Paris', unit: 'celsius' });
    const up = lastUpstream();
    expect(up.system).toContain('"name":"get_weather"');
    expect(up.system).toContain('<tool_call>');
  });

  it('stream: prose streams, then tool_calls deltas with index, id, name and arguments; then the round trip', async () => {
    const stream = await client().chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools,
      stream: true,
    });
    let text = '';
    const calls: { index: number; id?: string; name?: string; args: string }[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      const c = chunk.choices[0];
      if (!c) continue;
      text += c.delta.content ?? '';
      for (const d of c.delta.tool_calls ?? []) {
        const slot = (calls[d.index] ??= { index: d.index, args: '' });
        if (d.id) slot.id = d.id;
        if (d.function?.name) slot.name = d.function.name;
        slot.args += d.function?.arguments ?? '';
      }
      if (c.finish_reason) finish = c.finish_reason;
    }
    expect(text).toBe('Let me look that up.\n');
    expect(text).not.toContain('<tool_call>');
    expect(finish).toBe('tool_calls');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.name).toBe('get_weather');
    expect(JSON.parse(calls[0]!.args)).toEqual({ city: 'Paris', unit: 'celsius' });

    const r = await client().chat.completions.create({
      model: 'claude-sonnet-4-5',
      tools,
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: null, tool_calls: [{ id: calls[0]!.id!, type: 'function', function: { name: 'get_weather', arguments: calls[0]!.args } }] },
        { role: 'tool', tool_call_id: calls[0]!.id!, content: '18 degrees and sunny' },
      ],
    });
    expect(r.choices[0]!.finish_reason).toBe('stop');
    expect(r.choices[0]!.message.content).toBe('The weather service says: 18 degrees and sunny');
    expect(r.choices[0]!.message.tool_calls ?? []).toEqual([]);
    // the model saw its own call in the format it was asked to use, and the result
    const up = lastUpstream();
    expect(up.prompt).toContain('{"name":"get_weather","arguments":{"city":"Paris","unit":"celsius"}}');
    expect(up.prompt).toContain(`<tool_result name="get_weather" id="${calls[0]!.id}">\n18 degrees and sunny\n</tool_result>`);
  });

  it('tool_choice "none": the tools are not offered and the answer is plain text', async () => {
    const r = await client().chat.completions.create({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'Weather?' }], tools, tool_choice: 'none' });
    expect(r.choices[0]!.finish_reason).toBe('stop');
    expect(r.choices[0]!.message.content).toBe('No tools were offered to me.');
    expect(lastUpstream().system).not.toContain('<tools>');
  });

  it('tool_choice naming a function puts that demand in the prompt', async () => {
    const r = await client().chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'Weather?' }],
      tools,
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    expect(r.choices[0]!.finish_reason).toBe('tool_calls');
    expect(lastUpstream().system).toContain('You MUST call the tool "get_weather"');
  });

  it('tool_choice "required" and a model that answers without a call: a clear 502, not a silent text answer', async () => {
    stack.fake.setScript({ reply: 'I would rather not call anything.' });
    try {
      const err = await client()
        .chat.completions.create({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'Weather?' }], tools, tool_choice: 'required' })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
      expect((err as Error).message).toMatch(/required.*without calling a tool/);
      expect(lastUpstream().system).toContain('You MUST call at least one tool');
    } finally {
      stack.fake.setScript({ reply: weatherModel });
    }
  });
});

describe('Anthropic dialect: tool_use blocks and tool_result', () => {
  const client = () => new Anthropic({ baseURL: stack.url, apiKey: KEY, maxRetries: 0 });
  const tools = [{ name: weatherTool.name, description: weatherTool.description, input_schema: weatherTool.parameters as Anthropic.Tool.InputSchema }];

  it('non-stream: a tool_use block and stop_reason tool_use; stream: input_json_delta; then the round trip', async () => {
    const msg = await client().messages.create({ model: 'claude-sonnet-4-5', max_tokens: 256, tools, messages: [{ role: 'user', content: 'Weather in Paris?' }] });
    expect(msg.stop_reason).toBe('tool_use');
    const use = msg.content.find((b) => b.type === 'tool_use');
    expect(use).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { city: 'Paris', unit: 'celsius' } });

    const stream = client().messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 256, tools, messages: [{ role: 'user', content: 'Weather in Paris?' }] });
    const types: string[] = [];
    stream.on('streamEvent', (e) => types.push(e.type === 'content_block_delta' ? `delta:${e.delta.type}` : e.type));
    const final = await stream.finalMessage();
    expect(types).toContain('delta:input_json_delta');
    expect(final.stop_reason).toBe('tool_use');
    const streamed = final.content.find((b) => b.type === 'tool_use');
    expect(streamed).toMatchObject({ name: 'get_weather', input: { city: 'Paris', unit: 'celsius' } });

    const id = (use as Anthropic.ToolUseBlock).id;
    const answer = await client().messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 256,
      tools,
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: msg.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: '21 degrees, clear' }] },
      ],
    });
    expect(answer.stop_reason).toBe('end_turn');
    expect(answer.content).toEqual([expect.objectContaining({ type: 'text', text: 'The weather service says: 21 degrees, clear' })]);
  });

  it('tool_choice {type:"tool"} is honoured; {type:"none"} offers nothing', async () => {
    await client().messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, tools, tool_choice: { type: 'tool', name: 'get_weather' }, messages: [{ role: 'user', content: 'x' }] });
    expect(lastUpstream().system).toContain('You MUST call the tool "get_weather"');
    const none = await client().messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, tools, tool_choice: { type: 'none' }, messages: [{ role: 'user', content: 'x' }] });
    expect(none.stop_reason).toBe('end_turn');
    expect(none.content[0]).toMatchObject({ type: 'text', text: 'No tools were offered to me.' });
  });
});

describe('Gemini dialect: functionCall and functionResponse parts', () => {
  it('generateContent and the stream give a functionCall; a functionResponse gets the answer', async () => {
    const ai = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: stack.url } });
    const config = { tools: [{ functionDeclarations: [{ name: weatherTool.name, description: weatherTool.description, parametersJsonSchema: weatherTool.parameters }] }] };
    const r = await ai.models.generateContent({ model: 'claude-sonnet-4-5', contents: 'Weather in Paris?', config });
    expect(r.functionCalls).toEqual([expect.objectContaining({ name: 'get_weather', args: { city: 'Paris', unit: 'celsius' } })]);

    const calls: unknown[] = [];
    for await (const chunk of await ai.models.generateContentStream({ model: 'claude-sonnet-4-5', contents: 'Weather in Paris?', config })) {
      calls.push(...(chunk.functionCalls ?? []));
    }
    expect(calls).toEqual([expect.objectContaining({ name: 'get_weather', args: { city: 'Paris', unit: 'celsius' } })]);

    const answer = await ai.models.generateContent({
      model: 'claude-sonnet-4-5',
      config,
      contents: [
        { role: 'user', parts: [{ text: 'Weather in Paris?' }] },
        { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris', unit: 'celsius' } } }] },
        { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { output: 'rain, 12 degrees' } } }] },
      ],
    });
    expect(answer.text).toContain('The weather service says:');
    expect(answer.text).toContain('rain, 12 degrees');
    expect(answer.functionCalls ?? []).toEqual([]);

    const none = await ai.models.generateContent({
      model: 'claude-sonnet-4-5',
      contents: 'Weather?',
      config: { ...config, toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.NONE } } },
    });
    expect(none.text).toBe('No tools were offered to me.');
  });
});

describe('the same emulation over the other CLIs', () => {
  const client = () => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: KEY, maxRetries: 0 });
  const tools = [{ type: 'function' as const, function: weatherTool }];
  /** a model that calls the tool when the tools reached it, in whatever place its CLI puts the system prompt */
  const caller = (_prompt: string, body: any) => (JSON.stringify(body).includes('<tools>') ? `Checking.\n${CALL}` : 'no tools here');

  for (const [model, fake] of [
    ['gemini-2.5-flash', 'gemini'],
    ['qwen3-coder-plus', 'openai'],
    ['gpt-5', 'openai'],
  ] as const) {
    it(`${model}: the tools reach the model through the CLI's system prompt and the call comes back`, async () => {
      stack[fake].setScript({ reply: caller });
      try {
        const r = await client().chat.completions.create({ model, messages: [{ role: 'user', content: 'Weather in Paris?' }], tools });
        expect(r.choices[0]!.finish_reason).toBe('tool_calls');
        const call = r.choices[0]!.message.tool_calls![0]!;
        if (call.type !== 'function') throw new Error('not a function call');
        expect(call.function.name).toBe('get_weather');
        expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Paris', unit: 'celsius' });
      } finally {
        stack[fake].setScript({});
      }
    });
  }
});
