/** Bad input gets a 4xx in OpenAI's error shape that says what to fix; the server survives. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type TestStack } from '../helpers/server.js';
import { spawnedTotal } from '../../src/runtime/process.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ BODY_LIMIT: '2kb' });
});
afterAll(async () => stack?.close());

async function post(body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const res = await fetch(`${stack.url}/v1/chat/completions`, { method: 'POST', headers, body });
  const json = (await res.json()) as { error: { message: string; type: string; code: string; param: string | null } };
  return { status: res.status, json };
}

function expectOpenAIError(json: unknown) {
  expect(json).toMatchObject({ error: { message: expect.any(String), type: expect.any(String), code: expect.any(String) } });
  const { error } = json as { error: Record<string, unknown> };
  expect(Object.keys(error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(String(error.message)).not.toMatch(/\n\s+at /); // never a stack trace
}

const ok = { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] };

describe('bad input', () => {
  const cases: [string, string, number, RegExp, string?][] = [
    ['malformed JSON', '{"model": "x", ', 400, /not valid JSON/, 'invalid_json'],
    ['body is an array', '[1,2]', 400, /JSON object/, 'invalid_body'],
    ['body is a string', '"hello"', 400, /JSON object/, 'invalid_body'],
    ['missing messages', JSON.stringify({ model: 'claude-sonnet-4-5' }), 400, /messages/],
    ['empty messages', JSON.stringify({ ...ok, messages: [] }), 400, /messages.*at least one/],
    ['messages not an array', JSON.stringify({ ...ok, messages: 'hi' }), 400, /messages: expected array/],
    ['missing model', JSON.stringify({ messages: ok.messages }), 400, /model/],
    ['model is a number', JSON.stringify({ ...ok, model: 7 }), 400, /model: expected string, got number/],
    ['unknown role', JSON.stringify({ ...ok, messages: [{ role: 'wizard', content: 'x' }] }), 400, /messages\[0\]/],
    ['content is a number', JSON.stringify({ ...ok, messages: [{ role: 'user', content: 42 }] }), 400, /messages\[0\]\.content/],
    ['temperature out of range', JSON.stringify({ ...ok, temperature: 5 }), 400, /temperature/],
    ['stream is a string', JSON.stringify({ ...ok, stream: 'yes' }), 400, /stream/],
    ['n > 1', JSON.stringify({ ...ok, n: 3 }), 400, /\bn\b/],
    ['only a system message', JSON.stringify({ ...ok, messages: [{ role: 'system', content: 'be nice' }] }), 400, /user message/],
    ['image as a non-URL', JSON.stringify({ ...ok, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'file:///etc/passwd' } }] }] }), 400, /image_url/],
    ['unknown model', JSON.stringify({ ...ok, model: 'llama-nonexistent' }), 404, /llama-nonexistent.*Available models/, 'model_not_found'],
  ];

  for (const [name, body, status, message, code] of cases) {
    it(`${name} → ${status}`, async () => {
      const before = spawnedTotal();
      const r = await post(body);
      expect(r.status).toBe(status);
      expectOpenAIError(r.json);
      expect(r.json.error.message).toMatch(message);
      if (code) expect(r.json.error.code).toBe(code);
      expect(spawnedTotal()).toBe(before); // refused before any CLI started
    });
  }

  it('oversized body → 413', async () => {
    const r = await post(JSON.stringify({ ...ok, messages: [{ role: 'user', content: 'x'.repeat(5000) }] }));
    expect(r.status).toBe(413);
    expectOpenAIError(r.json);
    expect(r.json.error.message).toMatch(/BODY_LIMIT/);
  });

  it('no JSON content type → 400 that says to send JSON', async () => {
    const r = await post(JSON.stringify(ok), { 'content-type': 'text/plain' });
    expect(r.status).toBe(400);
    expectOpenAIError(r.json);
    expect(r.json.error.message).toMatch(/Content-Type: application\/json/);
  });

  it('unknown endpoint → 404 in OpenAI shape', async () => {
    const res = await fetch(`${stack.url}/v1/completions-nope`);
    expect(res.status).toBe(404);
    expectOpenAIError(await res.json());
  });

  it('the server is still healthy afterwards', async () => {
    const res = await fetch(`${stack.url}/health`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe('ok');
  });
});

describe('rate limits', () => {
  it('answers 429 with type rate_limit_exceeded, code too_many_requests and retry_after', async () => {
    const limited = await startStack({ RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_CHAT_PER_MINUTE: '2' });
    try {
      const send = () =>
        fetch(`${limited.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect((await send()).status).toBe(400);
      expect((await send()).status).toBe(400);
      const third = await send();
      expect(third.status).toBe(429);
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
      const body = (await third.json()) as { error: Record<string, unknown> };
      expect(body.error).toMatchObject({ type: 'rate_limit_exceeded', code: 'too_many_requests' });
      expect(body.error.retry_after).toEqual(expect.any(Number));
      // health has its own budget
      expect((await fetch(`${limited.url}/health`)).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});

describe('access', () => {
  it('API_KEY protects /v1 but not /health', async () => {
    const locked = await startStack({ API_KEY: 'secret-key' });
    try {
      expect((await fetch(`${locked.url}/health`)).status).toBe(200);
      const none = await fetch(`${locked.url}/v1/models`);
      expect(none.status).toBe(401);
      expectOpenAIError(await none.json());
      const wrong = await fetch(`${locked.url}/v1/models`, { headers: { authorization: 'Bearer nope' } });
      expect(wrong.status).toBe(401);
      const right = await fetch(`${locked.url}/v1/models`, { headers: { authorization: 'Bearer secret-key' } });
      expect(right.status).toBe(200);
    } finally {
      await locked.close();
    }
  });
});

describe('bad input in each dialect gets that dialect’s error shape', () => {
  const routes: [string, string, (j: any) => void][] = [
    ['anthropic', '/v1/messages', (j) => expect(j).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.any(String) } })],
    ['anthropic count', '/v1/messages/count_tokens', (j) => expect(j).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } })],
    ['gemini', '/v1beta/models/claude-sonnet-4-5:generateContent', (j) => expect(j).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT', message: expect.any(String) } })],
    ['gemini count', '/v1beta/models/claude-sonnet-4-5:countTokens', (j) => expect(j).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } })],
    ['backend proxy', '/api/ai/generate', (j) => expect(j).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } })],
  ];
  for (const [name, path, shape] of routes) {
    it(`${name}: malformed JSON, wrong types, oversized body`, async () => {
      const send = async (body: string) => {
        const res = await fetch(`${stack.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        return { status: res.status, json: await res.json() };
      };
      const malformed = await send('{"model": ');
      expect(malformed.status).toBe(400);
      shape(malformed.json);
      const wrong = await send(JSON.stringify({ model: 5, messages: 'x', contents: 'x' }));
      expect(wrong.status).toBe(400);
      shape(wrong.json);
      const big = await send(JSON.stringify({ pad: 'x'.repeat(5000) }));
      expect(big.status).toBe(413);
      expect(JSON.stringify(big.json)).toMatch(/BODY_LIMIT/);
    });
  }
});
