/**
 * The hot routes (chat and count endpoints served before express) answer exactly as the
 * express routes did: path forms express accepted, the API key in every header and ?key=,
 * Gemini's {model}:{method} segment, rate limits keyed on the client through the trusted
 * loopback proxy, CORS, request ids, usage records; what they do not recognise is express's.
 */
import http from 'node:http';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type TestStack } from '../helpers/server.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai.js';
import { clientIp, publicOrigin } from '../../src/server/http-types.js';

const KEY = 'hot-routes-key';
const MODEL = 'local-llama';
let upstream: FakeOpenAI;
let stack: TestStack;

beforeAll(async () => {
  upstream = await startFakeOpenAI();
  upstream.setScript({ reply: 'hot answer' });
  stack = await startStack({
    API_KEY: KEY,
    OPENAI_COMPATIBLE_BASE_URL: `${upstream.url}/v1`,
    OPENAI_COMPATIBLE_MODELS: MODEL,
    RATE_LIMIT_ENABLED: 'true',
    RATE_LIMIT_CHAT_PER_MINUTE: '3',
    METRICS_PUBLIC: 'true',
  });
});
afterAll(async () => {
  await stack?.close();
  await upstream?.close();
});

const chatBody = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] });
/** each test its own client address (through the trusted loopback proxy), so the chat limit of 3 is per test */
const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${stack.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}`, ...headers }, body });

describe('hot routes', () => {
  it('take the path forms express took: any case, one trailing slash, a query string', async () => {
    const ip = { 'x-forwarded-for': '198.51.100.1' };
    for (const path of ['/v1/chat/completions', '/V1/Chat/Completions/', '/v1/chat/completions?trace=1']) {
      const r = await post(path, chatBody, ip);
      expect(r.status, path).toBe(200);
      const j = (await r.json()) as { object: string; choices: { message: { content: string } }[] };
      expect(j.object).toBe('chat.completion');
      expect(j.choices[0]!.message.content).toBe('hot answer');
    }
    // absolute-form, as a forward proxy sends the request line
    const absolute = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const u = new URL(stack.url);
      const r = http.request({ host: u.hostname, port: u.port, method: 'POST', path: `${stack.url}/v1/chat/completions`, headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}`, 'x-forwarded-for': '198.51.100.3' } }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      r.on('error', reject);
      r.end(chatBody);
    });
    expect(absolute.status).toBe(200);
    expect(JSON.parse(absolute.body).choices[0].message.content).toBe('hot answer');
    // a near miss is not theirs: express answers it, a 404 in OpenAI's shape
    const miss = await post('/v1/chat/completionsx', chatBody, { 'x-forwarded-for': '198.51.100.2' });
    expect(miss.status).toBe(404);
    expect(((await miss.json()) as { error: { code: string } }).error.code).toBe('unknown_url');
    // and a GET on a hot path is express's too
    const get = await fetch(`${stack.url}/v1/chat/completions`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(get.status).toBe(404);
  });

  it('check the API key in each dialect, ?key= included, and refuse in the dialect', async () => {
    const ip = { 'x-forwarded-for': '198.51.100.10' };
    const none = await fetch(`${stack.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', ...ip }, body: chatBody });
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    const gemini = `/v1beta/models/${MODEL}:generateContent`;
    const body = JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] });
    const wrong = await fetch(`${stack.url}${gemini}?key=nope`, { method: 'POST', headers: { 'content-type': 'application/json', ...ip }, body });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: { status: string } }).error.status).toBe('UNAUTHENTICATED');
    const right = await fetch(`${stack.url}${gemini}?key=${KEY}`, { method: 'POST', headers: { 'content-type': 'application/json', ...ip }, body });
    expect(right.status).toBe(200);
    expect(((await right.json()) as { candidates: { content: { parts: { text: string }[] } }[] }).candidates[0]!.content.parts[0]!.text).toBe('hot answer');
    const anthropic = await post('/v1/messages', JSON.stringify({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }), { 'x-api-key': KEY, authorization: '', ...ip });
    expect(anthropic.status).toBe(200);
    expect(((await anthropic.json()) as { type: string }).type).toBe('message');
  });

  it("split Gemini's {model}:{method} segment: unknown methods 404 and undecodable segments 400, both in Gemini's shape", async () => {
    const ip = { 'x-forwarded-for': '198.51.100.20' };
    const body = JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi there' }] }] });
    const count = await post(`/v1beta/models/${MODEL}:countTokens`, body, ip);
    expect(count.status).toBe(200);
    expect(((await count.json()) as { totalTokens: number }).totalTokens).toBeGreaterThan(0);
    const unknown = await post(`/v1beta/models/${MODEL}:explode`, body, ip);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
    const bad = await post('/v1beta/models/%E0%A4%A:generateContent', body, ip);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });
    // an encoded model name is decoded as express decoded route params
    const encoded = await post(`/v1beta/models/openai-compatible%2F${MODEL}:generateContent`, body, ip);
    expect(encoded.status).toBe(200);
  });

  it('rate-limit each client address (X-Forwarded-For believed from the loopback proxy), with the RateLimit headers and Retry-After', async () => {
    const a = { 'x-forwarded-for': '203.0.113.7' };
    for (let i = 0; i < 3; i++) {
      const r = await post('/v1/chat/completions', chatBody, a);
      expect(r.status).toBe(200);
      expect(r.headers.get('ratelimit-policy')).toBe('3;w=60');
      expect(r.headers.get('ratelimit')).toContain(`remaining=${2 - i}`);
    }
    const limited = await post('/v1/messages', chatBody, a);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await limited.json()).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    // another client address has its own budget
    expect((await post('/v1/chat/completions', chatBody, { 'x-forwarded-for': '203.0.113.8' })).status).toBe(200);
  });

  it('answer CORS as before: the origin echoed for browsers, only Vary for the rest, preflights by express', async () => {
    const ip = { 'x-forwarded-for': '198.51.100.30' };
    const browser = await post('/v1/chat/completions', chatBody, { origin: 'https://app.example', ...ip });
    expect(browser.status).toBe(200);
    expect(browser.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(browser.headers.get('vary')).toContain('Origin');
    const plain = await post('/v1/chat/completions', chatBody, ip);
    expect(plain.headers.get('access-control-allow-origin')).toBeNull();
    expect(plain.headers.get('vary')).toBe('Origin');
    const preflight = await fetch(`${stack.url}/v1/chat/completions`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
  });

  it('echo a safe X-Request-ID and record the request (usage, metrics) as every request is', async () => {
    const before = await (await fetch(`${stack.url}/metrics`)).text();
    const count = (text: string) => Number(/cligate_requests_total\{dialect="openai",provider="openai-compatible",model="local-llama",status="200"\} (\d+)/.exec(text)?.[1] ?? 0);
    const r = await post('/v1/chat/completions', chatBody, { 'x-request-id': 'trace-123', 'x-forwarded-for': '198.51.100.40' });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-request-id')).toBe('trace-123');
    expect(((await r.json()) as { id: string }).id).toContain('trace123');
    const after = await (await fetch(`${stack.url}/metrics`)).text();
    expect(count(after)).toBe(count(before) + 1);
    const unsafe = await post('/v1/chat/completions', chatBody, { 'x-request-id': 'bad id\twith tab', 'x-forwarded-for': '198.51.100.40' });
    expect(unsafe.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('client address and public origin', () => {
  async function seen(host: string, connectTo: string, headers: Record<string, string>) {
    const server = http.createServer((req, res) => res.end(JSON.stringify({ ip: clientIp(req), origin: publicOrigin(req) })));
    await new Promise<void>((r) => server.listen(0, host, r));
    const port = (server.address() as { port: number }).port;
    try {
      const r = await fetch(`http://${connectTo.includes(':') ? `[${connectTo}]` : connectTo}:${port}/`, { headers });
      return (await r.json()) as { ip: string; origin: string };
    } finally {
      server.close();
    }
  }

  it('believe X-Forwarded-For/-Proto from a loopback proxy, and not from anyone else', async () => {
    const fwd = { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https' };
    const local = await seen('127.0.0.1', '127.0.0.1', fwd);
    expect(local.ip).toBe('203.0.113.9');
    expect(local.origin).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    // a non-loopback address of this machine is not a trusted proxy
    const other = Object.values(os.networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    if (!other) return; // no such interface here: the trusted case above still ran
    const remote = await seen('0.0.0.0', other, fwd);
    expect(remote.ip).toBe(other);
    expect(remote.origin).toMatch(/^http:\/\//);
  });
});
