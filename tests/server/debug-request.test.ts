/**
 * /v1/debug/request: what cligate decodes from a request in each dialect and the route it takes,
 * without calling a provider; behind the API key; refusals in the echoed dialect's own shape.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type TestStack } from '../helpers/server.js';

const KEY = 'sk-debug-test-key';
// a 1x1 PNG
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ LOG_LEVEL: 'debug', API_KEY: KEY });
});
afterAll(() => stack?.close());

async function debug(body: unknown, query = '', key = KEY): Promise<{ status: number; json: any }> {
  const res = await fetch(`${stack.url}/v1/debug/request${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

describe('POST /v1/debug/request', () => {
  it('is behind the API key like the rest of /v1', async () => {
    const { status, json } = await debug({ body: {} }, '', '');
    expect(status).toBe(401);
    expect(json.error.code).toBe('missing_api_key');
    expect((await debug({ body: {} }, '', 'sk-wrong')).status).toBe(401);
  });

  it('OpenAI: the decoded request with its image as media type and size, and the route, without calling a provider', async () => {
    const before = stack.fake.requests.length;
    const { status, json } = await debug({
      dialect: 'openai',
      body: {
        model: 'claude-sonnet-4-5',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } }] },
        ],
        temperature: 0.2,
      },
    });
    expect(status).toBe(200);
    expect(json.object).toBe('debug.request');
    expect(json.dialect).toBe('openai');
    expect(json.request).toMatchObject({ model: 'claude-sonnet-4-5', system: 'Be brief.', temperature: 0.2, stream: false });
    expect(json.request.messages[0].content).toEqual([{ type: 'text', text: 'What is this?' }, { type: 'image', mediaType: 'image/png', bytes: Buffer.from(PNG, 'base64').length }]);
    expect(JSON.stringify(json)).not.toContain(PNG.slice(0, 40));
    expect(json.route).toMatchObject({ requested: 'claude-sonnet-4-5', route: null, targets: [{ provider: 'claude-cli', model: 'claude-sonnet-4-5', target: 'claude-cli/claude-sonnet-4-5', progress: false, thinking: false }] });
    expect(stack.fake.requests.length).toBe(before);
  });

  it("the request itself as the body, as clis-wrapper's endpoint took it (OpenAI unless ?dialect=); -chat-progress shows as progress", async () => {
    const { status, json } = await debug({ model: 'claude-sonnet-4-5-chat-progress', messages: [{ role: 'user', content: 'hi' }], stream: true });
    expect(status).toBe(200);
    expect(json.dialect).toBe('openai');
    expect(json.request).toMatchObject({ model: 'claude-sonnet-4-5-chat-progress', stream: true });
    expect(json.route.targets[0]).toMatchObject({ provider: 'claude-cli', model: 'claude-sonnet-4-5', progress: true });

    const anthropic = await debug({ model: 'claude-sonnet-4-5', max_tokens: 100, system: 'S', messages: [{ role: 'user', content: 'hi' }] }, '?dialect=anthropic');
    expect(anthropic.status).toBe(200);
    expect(anthropic.json).toMatchObject({ dialect: 'anthropic', request: { model: 'claude-sonnet-4-5', system: 'S', maxTokens: 100 } });
  });

  it('Anthropic, Gemini (model and stream from beside the body, as its URL carries them) and Responses', async () => {
    const a = await debug({ dialect: 'anthropic', body: { model: 'claude-sonnet-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }], stream: true } });
    expect(a.json).toMatchObject({ dialect: 'anthropic', request: { stream: true, maxTokens: 50 } });

    const g = await debug({ dialect: 'gemini', model: 'gemini-2.5-flash', stream: true, body: { contents: [{ role: 'user', parts: [{ text: 'hi' }, { inlineData: { mimeType: 'image/png', data: PNG } }] }] } });
    expect(g.status).toBe(200);
    expect(g.json).toMatchObject({ dialect: 'gemini', request: { model: 'gemini-2.5-flash', stream: true }, route: { targets: [{ provider: 'gemini-cli', model: 'gemini-2.5-flash' }] } });
    expect(g.json.request.messages[0].content[1]).toEqual({ type: 'image', mediaType: 'image/png', bytes: Buffer.from(PNG, 'base64').length });

    const r = await debug({ dialect: 'responses', body: { model: 'claude-sonnet-4-5-thinking', input: 'hi', instructions: 'I' } });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ dialect: 'responses', request: { model: 'claude-sonnet-4-5-thinking', system: 'I' } });
  });

  it('a model nothing serves: the decoded request and why there is no route', async () => {
    const { status, json } = await debug({ body: { model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] } });
    expect(status).toBe(200);
    expect(json.route).toMatchObject({ requested: 'no-such-model', error: { status: 404, code: 'model_not_found' } });
  });

  it('a request its dialect refuses gets that dialect\'s error, as its own endpoint answers', async () => {
    const a = await debug({ dialect: 'anthropic', body: { model: 'claude-sonnet-4-5', max_tokens: 'many', messages: [] } });
    expect(a.status).toBe(400);
    expect(a.json).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    const g = await debug({ dialect: 'gemini', model: 'gemini-2.5-flash', body: { contents: 'not a list of contents' } });
    expect(g.status).toBe(400);
    expect(g.json.error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT' });
  });

  it('wrong-typed fields of the envelope are a 400 naming the field; unknown fields are accepted', async () => {
    const cases: [unknown, string][] = [
      [{ dialect: 'klingon', body: {} }, 'dialect'],
      [{ dialect: 5, body: {} }, 'dialect'],
      [{ body: 'hello' }, 'body'],
      [{ body: [] }, 'body'],
      [{ dialect: 'gemini', model: 7, body: {} }, 'model'],
      [{ dialect: 'gemini', model: 'gemini-2.5-flash', stream: 'yes', body: {} }, 'stream'],
      [{ dialect: 'gemini', body: { contents: [] } }, 'model'],
    ];
    for (const [body, param] of cases) {
      const { status, json } = await debug(body);
      expect({ status, param: json.error?.param }).toEqual({ status: 400, param });
    }
    expect((await debug([1, 2])).status).toBe(400);
    const ok = await debug({ dialect: 'openai', note: 'mine', body: { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }], some_future_field: 1 } });
    expect(ok.status).toBe(200);
  });
});

describe('GET /v1/debug/request', () => {
  const get = (q: string) => fetch(`${stack.url}/v1/debug/request${q}`, { headers: { authorization: `Bearer ${KEY}` } });

  it('?model= explains the route a model name takes', async () => {
    const res = await get('?model=claude-cli/claude-sonnet-4-5-thinking-progress');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ route: { targets: [{ provider: 'claude-cli', model: expect.stringMatching(/^claude-sonnet-4-5/), progress: true }] } });
  });

  it('without ?model= it says how to use it (400 naming model)', async () => {
    const res = await get('');
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: { param: string; message: string } };
    expect(json.error.param).toBe('model');
    expect(json.error.message).toContain('POST');
  });
});
