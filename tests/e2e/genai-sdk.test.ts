/** The official @google/genai SDK against cligate's Gemini surface; plus the raw wire forms. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GoogleGenAI, ApiError } from '@google/genai';
import { startStack, type TestStack } from '../helpers/server.js';

let stack: TestStack;
let ai: GoogleGenAI;
const KEY = 'gemini-test-key';

beforeAll(async () => {
  stack = await startStack({ API_KEY: KEY });
  ai = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: stack.url } });
});
afterAll(async () => stack?.close());

const lastUpstream = () => stack.fake.requests.filter((q) => q.path === '/v1/messages').at(-1)?.body;
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${stack.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('Google GenAI SDK end to end', () => {
  it('generateContent: text, STOP, usageMetadata, systemInstruction reaches upstream', async () => {
    stack.fake.setScript({ reply: 'Hola mundo', usage: { input_tokens: 17, output_tokens: 2 } });
    const r = await ai.models.generateContent({
      model: 'claude-sonnet-4-5',
      contents: 'Say hello',
      config: { systemInstruction: 'Answer in Spanish.', maxOutputTokens: 64 },
    });
    expect(r.text).toBe('Hola mundo');
    expect(r.candidates?.[0]?.finishReason).toBe('STOP');
    expect(r.usageMetadata?.promptTokenCount).toBe(17);
    expect(r.usageMetadata?.candidatesTokenCount).toBe(2);
    expect(r.usageMetadata?.totalTokenCount).toBe(19);
    expect(JSON.stringify(lastUpstream().system)).toContain('Answer in Spanish.');
  });

  it('generateContentStream: chunks in order, last one with finishReason and usage', async () => {
    stack.fake.setScript({ reply: 'uno dos tres', usage: { input_tokens: 9, output_tokens: 3 } });
    const stream = await ai.models.generateContentStream({ model: 'claude-haiku-4-5', contents: 'count' });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.map((c) => c.text ?? '').join('')).toBe('uno dos tres');
    const last = chunks.at(-1)!;
    expect(last.candidates?.[0]?.finishReason).toBe('STOP');
    expect(last.usageMetadata?.candidatesTokenCount).toBe(3);
  });

  it('multi-turn with functionCall / functionResponse reaches the CLI in order', async () => {
    stack.fake.setScript({ reply: 'It is 21C.' });
    const r = await ai.models.generateContent({
      model: 'claude-sonnet-4-5',
      contents: [
        { role: 'user', parts: [{ text: 'Weather in Lima?' }] },
        { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Lima' } } }] },
        { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temp: '21C' } } }] },
      ],
    });
    expect(r.text).toBe('It is 21C.');
    const prompt = JSON.stringify(lastUpstream().messages);
    expect(prompt.indexOf('Weather in Lima?')).toBeLessThan(prompt.indexOf('get_weather'));
    expect(prompt.indexOf('get_weather')).toBeLessThan(prompt.indexOf('21C'));
  });

  it('countTokens: a real estimate', async () => {
    const r = await ai.models.countTokens({ model: 'claude-sonnet-4-5', contents: 'The quick brown fox jumps over the lazy dog. '.repeat(20) });
    expect(r.totalTokens).toBeGreaterThan(180);
    expect(r.totalTokens).toBeLessThan(320);
  });

  it('models.list', async () => {
    const pager = await ai.models.list();
    const names: string[] = [];
    for await (const m of pager) names.push(m.name ?? '');
    expect(names).toContain('models/claude-sonnet-4-6');
  });

  it('unknown model: 404 NOT_FOUND in Gemini shape', async () => {
    const err = await ai.models.generateContent({ model: 'nonexistent', contents: 'hi' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(404);
  });

  it('wrong key: 401 UNAUTHENTICATED', async () => {
    const bad = new GoogleGenAI({ apiKey: 'wrong', httpOptions: { baseUrl: stack.url } });
    const err = await bad.models.countTokens({ model: 'claude-sonnet-4-5', contents: 'hi' }).catch((e: unknown) => e);
    expect((err as ApiError).status).toBe(401);
  });
});

describe('Gemini raw wire forms', () => {
  it('?key= authenticates; bad bodies get {error:{code,message,status}}', async () => {
    const cases: [unknown, number, RegExp][] = [
      [{}, 400, /contents/],
      [{ contents: [] }, 400, /contents/],
      [{ contents: [{ role: 'user', parts: 'hi' }] }, 400, /contents\[0\]\.parts/],
      [{ contents: [{ role: 'user', parts: [{ inlineData: { mimeType: 'application/zip', data: 'AAAA' } }] }] }, 400, /application\/zip/],
      [{ contents: [{ role: 'user', parts: [{ text: 'hi' }] }], generationConfig: { candidateCount: 2 } }, 400, /candidate/],
    ];
    for (const [body, status, message] of cases) {
      const res = await post(`/v1beta/models/claude-sonnet-4-5:generateContent?key=${KEY}`, body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      const json = (await res.json()) as { error: { code: number; message: string; status: string } };
      expect(json.error.code).toBe(status);
      expect(json.error.status).toBe('INVALID_ARGUMENT');
      expect(json.error.message).toMatch(message);
    }
  });

  it('streamGenerateContent without alt=sse streams one JSON array', async () => {
    stack.fake.setScript({ reply: 'a b c' });
    const res = await post('/v1beta/models/claude-sonnet-4-5:streamGenerateContent', { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }, { 'x-goog-api-key': KEY });
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const arr = JSON.parse(await res.text()) as { candidates: { content: { parts: { text?: string }[] }; finishReason?: string }[] }[];
    expect(Array.isArray(arr)).toBe(true);
    expect(arr.map((r) => r.candidates[0]?.content.parts.map((p) => p.text ?? '').join('')).join('')).toBe('a b c');
    expect(arr.at(-1)?.candidates[0]?.finishReason).toBe('STOP');
  });
});

describe('backend-proxy endpoints (/api/ai/*)', () => {
  const auth = { authorization: `Bearer ${KEY}`, 'x-session-id': 'sess-42', 'x-request-id': 'req-abc-123' };
  const body = { model: 'claude-sonnet-4-5', contents: [{ role: 'user', parts: [{ text: 'ping' }] }], config: { maxOutputTokens: 50 } };

  it('generate: a GenerateContentResponse; X-Request-ID echoed', async () => {
    stack.fake.setScript({ reply: 'pong' });
    const res = await post('/api/ai/generate', body, auth);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('req-abc-123');
    const json = (await res.json()) as { candidates: { content: { parts: { text: string }[] } }[] };
    expect(json.candidates[0]?.content.parts[0]?.text).toBe('pong');
  });

  it('generate-stream: SSE, one GenerateContentResponse per data line', async () => {
    stack.fake.setScript({ reply: 'p o n g' });
    const res = await post('/api/ai/generate-stream', body, auth);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const datas = (await res.text()).split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)));
    expect(datas.length).toBeGreaterThan(1);
    expect(datas.map((d) => d.candidates[0].content.parts.map((p: { text?: string }) => p.text ?? '').join('')).join('')).toBe('p o n g');
  });

  it('count-tokens, embed (501 with a clear message), bad token (401)', async () => {
    const count = await post('/api/ai/count-tokens', body, auth);
    expect(((await count.json()) as { totalTokens: number }).totalTokens).toBeGreaterThan(0);
    const embed = await post('/api/ai/embed', { model: 'x', contents: [] }, auth);
    expect(embed.status).toBe(501);
    expect(((await embed.json()) as { error: { status: string; message: string } }).error).toMatchObject({ status: 'UNIMPLEMENTED', message: expect.stringMatching(/embedding/) });
    const bad = await post('/api/ai/generate', body, { authorization: 'Bearer nope' });
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { error: { status: string } }).error.status).toBe('UNAUTHENTICATED');
  });
});
