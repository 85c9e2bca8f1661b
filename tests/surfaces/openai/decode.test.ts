/** decodeChatCompletion (and parseBody): OpenAI chat-completions bodies -> ChatRequest, or a 400 that says what to fix. */
import { describe, expect, it } from 'vitest';
import { decodeChatCompletion } from '../../../src/surfaces/openai/decode.js';
import { parseBody } from '../../../src/surfaces/validate.js';
import { chatCompletionSchema } from '../../../src/surfaces/openai/schema.js';
import { BadRequest, CligateError } from '../../../src/core/errors.js';

type Body = Record<string, unknown>;
const decode = (body: unknown, headers: Record<string, string | string[] | undefined> = {}) => decodeChatCompletion(body, headers);
const base = (extra: Body = {}): Body => ({ model: 'gpt-x', messages: [{ role: 'user', content: 'hi' }], ...extra });

function badRequest(body: unknown): BadRequest {
  try {
    decode(body);
  } catch (err) {
    expect(err).toBeInstanceOf(BadRequest);
    expect(err).toBeInstanceOf(CligateError);
    expect((err as BadRequest).status).toBe(400);
    expect((err as BadRequest).kind).toBe('bad_request');
    return err as BadRequest;
  }
  throw new Error(`expected a BadRequest for ${JSON.stringify(body)}`);
}

describe('decodeChatCompletion: messages', () => {
  it('string content becomes one text part', () => {
    const req = decode(base());
    expect(req.model).toBe('gpt-x');
    expect(req.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'hi' }] }]);
    expect(req.system).toBeUndefined();
  });

  it('array content keeps every text part in order', () => {
    const req = decode(
      base({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'one' },
              { type: 'text', text: 'two' },
            ],
          },
        ],
      }),
    );
    expect(req.messages[0]!.content).toEqual([
      { type: 'text', text: 'one' },
      { type: 'text', text: 'two' },
    ]);
  });

  it('leading system and developer messages are joined, in order, into `system`; a later one stays at its place', () => {
    const req = decode(
      base({
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
          { role: 'user', content: 'hi' },
          { role: 'system', content: 'Never apologise.' },
        ],
      }),
    );
    expect(req.system).toBeDefined();
    const sys = req.system!;
    expect(sys).toContain('You are terse.');
    expect(sys.indexOf('You are terse.')).toBeLessThan(sys.indexOf('Answer in French.'));
    expect(sys).not.toContain('Never apologise.');
    expect(req.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'hi' }] },
      { role: 'system', content: [{ type: 'text', text: 'Never apologise.' }] },
    ]);
  });

  it('assistant tool_calls become tool-call parts and tool messages become tool-result parts named after their call', () => {
    const req = decode(
      base({
        messages: [
          { role: 'user', content: 'weather in Oslo and Bergen?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
              { id: 'call_2', type: 'function', function: { name: 'get_forecast', arguments: '{"city":"Bergen"}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'call_2', content: 'rain' },
          { role: 'tool', tool_call_id: 'call_1', content: [{ type: 'text', text: 'sun' }] },
          { role: 'tool', tool_call_id: 'call_unknown', content: 'orphan' },
        ],
      }),
    );
    expect(req.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'weather in Oslo and Bergen?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'tool-call', id: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo"}' },
          { type: 'tool-call', id: 'call_2', name: 'get_forecast', arguments: '{"city":"Bergen"}' },
        ],
      },
      { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'call_2', name: 'get_forecast', content: 'rain' }] },
      { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'call_1', name: 'get_weather', content: 'sun' }] },
      { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'call_unknown', content: 'orphan' }] },
    ]);
  });

  it('assistant text comes before its tool calls, and reasoning_content is kept as reasoning', () => {
    const req = decode(
      base({
        messages: [
          { role: 'user', content: 'q' },
          {
            role: 'assistant',
            content: 'Checking.',
            reasoning_content: 'need a tool',
            tool_calls: [{ id: 'c', function: { name: 'f', arguments: '{}' } }],
          },
          { role: 'tool', tool_call_id: 'c', content: 'ok' },
        ],
      }),
    );
    expect(req.messages[1]!.content).toEqual([
      { type: 'reasoning', text: 'need a tool' },
      { type: 'text', text: 'Checking.' },
      { type: 'tool-call', id: 'c', name: 'f', arguments: '{}' },
    ]);
  });

  it('an image_url data URL becomes an inline image part with its media type and base64 data', () => {
    const req = decode(
      base({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'what is this?' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'high' } },
              { type: 'image_url', image_url: 'data:image/jpeg;base64,/9j/4AAQ' },
            ],
          },
        ],
      }),
    );
    expect(req.messages[0]!.content).toEqual([
      { type: 'text', text: 'what is this?' },
      { type: 'image', mediaType: 'image/png', data: 'iVBORw0KGgo=' },
      { type: 'image', mediaType: 'image/jpeg', data: '/9j/4AAQ' },
    ]);
  });

  it('an http(s) image URL is kept as a URL', () => {
    const req = decode(
      base({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }] }),
    );
    expect(req.messages[0]!.content).toEqual([{ type: 'image', url: 'https://example.com/cat.png' }]);
  });

  it('a data URL that is not base64 is a 400 naming the part', () => {
    const err = badRequest(
      base({
        messages: [
          { role: 'user', content: 'first' },
          { role: 'user', content: [{ type: 'text', text: 'x' }, { type: 'image_url', image_url: { url: 'data:image/png,rawbytes' } }] },
        ],
      }),
    );
    expect(err.message).toContain('messages[1].content[1]');
    expect(err.message).toMatch(/base64/);
    expect(err.param).toBe('messages[1].content[1]');
  });

  it('an image URL that is neither http(s) nor a data URL is a 400 naming the part', () => {
    const err = badRequest(
      base({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'file:///etc/passwd' } }] }] }),
    );
    expect(err.message).toContain('messages[0].content[0]');
    expect(err.param).toBe('messages[0].content[0]');
  });
});

describe('decodeChatCompletion: parameters', () => {
  it('stream defaults to false; stream_options.include_usage is read', () => {
    expect(decode(base())).toMatchObject({ stream: false, includeUsage: false });
    expect(decode(base({ stream: true }))).toMatchObject({ stream: true, includeUsage: false });
    expect(decode(base({ stream: true, stream_options: { include_usage: true } }))).toMatchObject({ stream: true, includeUsage: true });
    expect(decode(base({ stream: null, stream_options: null }))).toMatchObject({ stream: false, includeUsage: false });
  });

  it('max_completion_tokens is preferred over max_tokens', () => {
    expect(decode(base({ max_tokens: 100 })).maxTokens).toBe(100);
    expect(decode(base({ max_completion_tokens: 200 })).maxTokens).toBe(200);
    expect(decode(base({ max_tokens: 100, max_completion_tokens: 200 })).maxTokens).toBe(200);
    expect(decode(base()).maxTokens).toBeUndefined();
  });

  it('sampling parameters are carried over', () => {
    const req = decode(base({ temperature: 0.2, top_p: 0.9 }));
    expect(req.temperature).toBe(0.2);
    expect(req.topP).toBe(0.9);
    expect(decode(base({ temperature: 0 })).temperature).toBe(0);
  });

  it('a stop string becomes a one-element array; an array is kept', () => {
    expect(decode(base({ stop: 'END' })).stop).toEqual(['END']);
    expect(decode(base({ stop: ['a', 'b'] })).stop).toEqual(['a', 'b']);
    expect(decode(base()).stop).toBeUndefined();
  });

  it('tools become tool definitions', () => {
    const parameters = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    const req = decode(
      base({
        tools: [
          { type: 'function', function: { name: 'get_weather', description: 'Weather now', parameters } },
          { type: 'function', function: { name: 'ping' } },
        ],
      }),
    );
    expect(req.tools).toEqual([{ name: 'get_weather', description: 'Weather now', parameters }, { name: 'ping' }]);
  });

  it('tool_choice: the string forms and the named-function form', () => {
    expect(decode(base({ tool_choice: 'auto' })).toolChoice).toBe('auto');
    expect(decode(base({ tool_choice: 'none' })).toolChoice).toBe('none');
    expect(decode(base({ tool_choice: 'required' })).toolChoice).toBe('required');
    expect(decode(base({ tool_choice: { type: 'function', function: { name: 'get_weather' } } })).toolChoice).toEqual({
      name: 'get_weather',
    });
    expect(decode(base()).toolChoice).toBeUndefined();
  });

  it('an unknown tool_choice is a 400 naming tool_choice', () => {
    const err = badRequest(base({ tool_choice: 'sometimes' }));
    expect(err.param).toBe('tool_choice');
    expect(err.message).toContain('tool_choice');
  });
});

describe('decodeChatCompletion: bad input names what to fix', () => {
  const cases: { name: string; body: Body; path: string }[] = [
    { name: 'missing model', body: { messages: [{ role: 'user', content: 'x' }] }, path: 'model' },
    { name: 'model not a string', body: base({ model: 42 }), path: 'model' },
    { name: 'empty model', body: base({ model: '' }), path: 'model' },
    { name: 'empty messages', body: base({ messages: [] }), path: 'messages' },
    { name: 'messages not an array', body: base({ messages: 'hello' }), path: 'messages' },
    { name: 'missing messages', body: { model: 'm' }, path: 'messages' },
    {
      name: 'content a number',
      body: base({ messages: [{ role: 'user', content: 'ok' }, { role: 'user', content: 42 }] }),
      path: 'messages[1].content',
    },
    { name: 'temperature 5', body: base({ temperature: 5 }), path: 'temperature' },
    { name: 'top_p above 1', body: base({ top_p: 1.5 }), path: 'top_p' },
    { name: 'n 2', body: base({ n: 2 }), path: 'n' },
    { name: 'max_tokens 0', body: base({ max_tokens: 0 }), path: 'max_tokens' },
    { name: 'five stop sequences', body: base({ stop: ['a', 'b', 'c', 'd', 'e'] }), path: 'stop' },
    {
      name: 'tool message without tool_call_id',
      body: base({ messages: [{ role: 'user', content: 'q' }, { role: 'tool', content: 'r' }] }),
      path: 'messages[1].tool_call_id',
    },
  ];
  for (const c of cases) {
    it(`${c.name} -> 400 naming ${c.path}`, () => {
      const err = badRequest(c.body);
      expect(err.message).toContain(c.path);
      expect(err.param).toBe(c.path);
      expect(err.code).toBe('invalid_request');
    });
  }

  it('n 2 explains that only one choice is supported', () => {
    expect(badRequest(base({ n: 2 })).message).toMatch(/n > 1 is not supported/);
  });

  it('a missing field says it is missing, a wrong type says what it got', () => {
    expect(badRequest({ messages: [{ role: 'user', content: 'x' }] }).message).toMatch(/model: expected string, but it is missing/);
    expect(badRequest(base({ messages: 'hello' })).message).toMatch(/messages: expected array, got string/);
  });

  it('a wrong role -> 400 whose param is messages[0].role', () => {
    const err = badRequest(base({ messages: [{ role: 'bot', content: 'x' }] }));
    expect(err.param).toBe('messages[0].role');
    expect(err.message).toContain('messages[0].role');
  });

  // Regression (fixed in dab4086): zod 4 already puts the discriminator in the issue path
  // (["messages",0,"role"]) and describe() appended `.${discriminator}` again, so the
  // message read "Invalid request: messages[0].role.role has a value that is not allowed here".
  it('a wrong role names the field once: "messages[0].role has a value…", not "messages[0].role.role"', () => {
    const err = badRequest(base({ messages: [{ role: 'bot', content: 'x' }] }));
    expect(err.message).not.toContain('role.role');
    expect(err.message).toContain('messages[0].role has a value that is not allowed');
  });

  for (const [name, body] of [
    ['an array', [{ model: 'm' }]],
    ['null', null],
    ['a string', '{"model":"m"}'],
    ['a number', 7],
    ['undefined', undefined],
  ] as const) {
    it(`a body that is ${name} -> 400 asking for a JSON object`, () => {
      const err = badRequest(body);
      expect(err.code).toBe('invalid_body');
      expect(err.message).toMatch(/JSON object/);
    });
  }

  it('system messages alone are not a prompt -> 400 on messages', () => {
    const err = badRequest(base({ messages: [{ role: 'system', content: 'You are helpful.' }, { role: 'developer', content: 'Be brief.' }] }));
    expect(err.param).toBe('messages');
    expect(err.message).toMatch(/user message/);
  });

  it('a user message with empty content is not a prompt either', () => {
    expect(badRequest(base({ messages: [{ role: 'system', content: 's' }, { role: 'user', content: '' }] })).param).toBe('messages');
  });

  it('unknown extra fields are tolerated', () => {
    expect(() => decode(base({ logit_bias: {}, seed: 1, parallel_tool_calls: false, metadata: { a: 1 } }))).not.toThrow();
  });
});

describe('parseBody', () => {
  it('returns the parsed body when it is valid', () => {
    const b = parseBody(chatCompletionSchema, base({ stop: 'x' }));
    expect(b.model).toBe('gpt-x');
    expect(b.stop).toBe('x');
  });

  it('reports at most three issues, the first one as param', () => {
    try {
      parseBody(chatCompletionSchema, { model: 1, messages: 2, temperature: 9, top_p: 9, n: 9 });
      throw new Error('expected a BadRequest');
    } catch (err) {
      expect(err).toBeInstanceOf(BadRequest);
      const e = err as BadRequest;
      expect(e.param).toBe('model');
      expect(e.message.split('; ')).toHaveLength(3);
      expect(e.message).toContain('model');
      expect(e.message).toContain('messages');
    }
  });
});

describe('decodeChatCompletion: session key', () => {
  const conv = (first: string, ...rest: Body[]) => base({ messages: [{ role: 'system', content: 'sys' }, { role: 'user', content: first }, ...rest] });

  it('the x-session-id header becomes the session key', () => {
    expect(decode(conv('hello'), { 'x-session-id': 'sess-42' }).sessionKey).toBe('sess-42');
  });

  it('without a header, the key is a stable hash of the first user message', () => {
    const a = decode(conv('hello'));
    const b = decode(conv('hello'));
    expect(a.sessionKey).toEqual(expect.any(String));
    expect(a.sessionKey!.length).toBeGreaterThanOrEqual(16);
    expect(a.sessionKey).toBe(b.sessionKey);
    expect(a.sessionKey).not.toContain('hello');
  });

  it('the key stays the same as the conversation grows, and differs for a different first message', () => {
    const first = decode(conv('hello'));
    const later = decode(conv('hello', { role: 'assistant', content: 'hi there' }, { role: 'user', content: 'and then?' }));
    const other = decode(conv('goodbye'));
    expect(later.sessionKey).toBe(first.sessionKey);
    expect(other.sessionKey).not.toBe(first.sessionKey);
  });

  it('a header wins over the hash, and an empty header is ignored', () => {
    const hashed = decode(conv('hello')).sessionKey;
    expect(decode(conv('hello'), { 'x-session-id': '' }).sessionKey).toBe(hashed);
    expect(decode(conv('hello'), { 'x-session-id': 'abc' }).sessionKey).toBe('abc');
  });
});
