/**
 * A corpus of malformed and hostile requests across every surface and the admin API:
 * bad JSON, wrong types, huge and deeply nested bodies, unicode edge cases, image bombs,
 * lying data URLs, private-address image URLs, path traversal on /image/, header tricks,
 * prototype pollution. Each must get a clear 4xx in its route's dialect; the server never
 * answers 5xx, never crashes, and the corpus is counted (≥ 200 cases).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { startStack, type TestStack } from '../helpers/server.js';
import { errorShape, type Dialect } from '../helpers/dialects.js';
import { fetchJson } from '../helpers/net.js';
import { ROOT } from '../helpers/claude-env.js';

const KEY = 'sk-hostile-key';
const PASSWORD = 'admin-pass-hostile';
let stack: TestStack;
let admin = '';

interface Case {
  name: string;
  method?: string;
  path: string;
  dialect: Dialect;
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** exact status, else any 4xx */
  status?: number;
  /** the error code, when it matters */
  code?: string | RegExp;
  /** send with the admin session instead of the API key */
  asAdmin?: boolean;
}

const MODEL = 'claude-sonnet-4-5';
const J = (v: unknown) => JSON.stringify(v);
const ENDPOINTS: { path: string; dialect: Dialect; valid: (extra?: object) => object }[] = [
  { path: '/v1/chat/completions', dialect: 'openai', valid: (x = {}) => ({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], ...x }) },
  { path: '/v1/messages', dialect: 'anthropic', valid: (x = {}) => ({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }], ...x }) },
  { path: '/v1/responses', dialect: 'responses', valid: (x = {}) => ({ model: MODEL, store: false, input: 'hi', ...x }) },
  { path: '/v1/messages/count_tokens', dialect: 'anthropic', valid: (x = {}) => ({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], ...x }) },
  { path: `/v1beta/models/${MODEL}:generateContent`, dialect: 'gemini', valid: (x = {}) => ({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }], ...x }) },
  { path: `/v1beta/models/${MODEL}:streamGenerateContent?alt=sse`, dialect: 'gemini', valid: (x = {}) => ({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }], ...x }) },
  { path: `/v1beta/models/${MODEL}:countTokens`, dialect: 'gemini', valid: (x = {}) => ({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }], ...x }) },
  { path: '/api/ai/generate', dialect: 'gemini', valid: (x = {}) => ({ model: MODEL, contents: [{ role: 'user', parts: [{ text: 'hi' }] }], ...x }) },
];

/** a JSON schema nested `depth` objects deep, as text (JSON.stringify itself overflows the stack on it) */
const nested = (depth: number) => `${'{"type":"object","properties":{"x":'.repeat(depth)}1${'}}'.repeat(depth)}`;
/** J() with one raw JSON text spliced in for the "@@" placeholder */
const splice = (v: unknown, rawJson: string) => J(v).replace('"@@"', rawJson);
const deepArray = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

async function imageCases(): Promise<Case[]> {
  const bomb = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } }).png().toBuffer();
  // a PNG whose header claims 60000 x 60000 pixels (IHDR patched; the CRC is recomputed)
  const big = Buffer.from(bomb);
  big.writeUInt32BE(60000, 16);
  big.writeUInt32BE(60000, 20);
  big.writeUInt32BE(zlib.crc32(big.subarray(12, 29)) >>> 0, 29);
  // a BMP header claiming 50000 x 50000 pixels with almost no data
  const bmp = Buffer.alloc(64);
  bmp.write('BM', 0);
  bmp.writeUInt32LE(64, 2);
  bmp.writeUInt32LE(54, 10);
  bmp.writeUInt32LE(40, 14);
  bmp.writeInt32LE(50000, 18);
  bmp.writeInt32LE(50000, 22);
  bmp.writeUInt16LE(1, 26);
  bmp.writeUInt16LE(32, 28);
  const payloads: [string, string][] = [
    ['png bomb (60000x60000 header)', `data:image/png;base64,${big.toString('base64')}`],
    ['bmp bomb (50000x50000 header)', `data:image/bmp;base64,${bmp.toString('base64')}`],
    ['png that is really a PDF', `data:image/png;base64,${Buffer.from('%PDF-1.7\n1 0 obj\n<<>>\nendobj\n').toString('base64')}`],
    ['jpeg that is really HTML', `data:image/jpeg;base64,${Buffer.from('<html><script>alert(1)</script></html>').toString('base64')}`],
    ['svg with a script', `data:image/svg+xml;base64,${Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>').toString('base64')}`],
    ['truncated png', `data:image/png;base64,${bomb.subarray(0, 30).toString('base64')}`],
    ['empty image', 'data:image/png;base64,'],
    ['not base64', 'data:image/png;base64,@@@@!!!!'],
    ['url to loopback', 'http://127.0.0.1:1/x.png'],
    ['url to cloud metadata', 'http://169.254.169.254/latest/meta-data/'],
    ['url to localhost by name', 'http://localhost:9/x.png'],
    ['url to ipv6 loopback', 'http://[::1]:9/x.png'],
    ['file url', 'file:///etc/passwd'],
    ['javascript url', 'javascript:alert(1)'],
  ];
  const cases: Case[] = [];
  for (const [name, url] of payloads) {
    const isData = url.startsWith('data:');
    const [, mediaType = 'image/png', data = ''] = /^data:([^;]+);base64,(.*)$/.exec(url) ?? [];
    cases.push({ name: `openai image: ${name}`, path: '/v1/chat/completions', dialect: 'openai', body: J({ model: MODEL, messages: [{ role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url } }] }] }) });
    cases.push({
      name: `anthropic image: ${name}`,
      path: '/v1/messages',
      dialect: 'anthropic',
      body: J({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'image', source: isData ? { type: 'base64', media_type: mediaType, data } : { type: 'url', url } }] }] }),
    });
    cases.push({
      name: `gemini image: ${name}`,
      path: `/v1beta/models/${MODEL}:generateContent`,
      dialect: 'gemini',
      body: J({ contents: [{ role: 'user', parts: [isData ? { inlineData: { mimeType: mediaType, data } } : { fileData: { mimeType: 'image/png', fileUri: url } }] }] }),
    });
  }
  const distinct = await Promise.all(Array.from({ length: 21 }, (_, i) => sharp({ create: { width: 2, height: 2, channels: 3, background: { r: i * 10, g: 0, b: 0 } } }).png().toBuffer()));
  const many = distinct.map((png) => ({ type: 'image_url', image_url: { url: `data:image/png;base64,${png.toString('base64')}` } }));
  cases.push({ name: 'more images than IMAGE_MAX_COUNT', path: '/v1/chat/completions', dialect: 'openai', body: J({ model: MODEL, messages: [{ role: 'user', content: many }] }) });
  return cases;
}

function corpus(): Case[] {
  const cases: Case[] = [];
  // --- bad JSON, on every chat and count endpoint ---
  const badJson = ['{', '{"model":}', '[', 'nul', '{"model":"x",}', '{} trailing', "{'model':'x'}", '{"a":NaN}', '{"a":1e999999}x', '\u0000'];
  for (const e of ENDPOINTS) for (const b of badJson) cases.push({ name: `bad JSON ${J(b)} -> ${e.path}`, path: e.path, dialect: e.dialect, body: b, status: 400 });
  for (const e of ENDPOINTS) cases.push({ name: `empty body -> ${e.path}`, path: e.path, dialect: e.dialect, body: '', status: 400 });
  for (const e of ENDPOINTS) cases.push({ name: `a JSON array -> ${e.path}`, path: e.path, dialect: e.dialect, body: '[1,2]', status: 400 });
  for (const e of ENDPOINTS) cases.push({ name: `not JSON content type -> ${e.path}`, path: e.path, dialect: e.dialect, body: 'model=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  // --- wrong types ---
  const openaiBad: object[] = [
    { model: 5, messages: [{ role: 'user', content: 'x' }] },
    { model: MODEL, messages: 'hello' },
    { model: MODEL, messages: [] },
    { model: MODEL, messages: [{ role: 'wizard', content: 'x' }] },
    { model: MODEL, messages: [{ role: 'usеr', content: 'x' }] }, // Cyrillic "е"
    { model: MODEL, messages: [{ role: 'user', content: 42 }] },
    { model: MODEL, messages: [{ role: 'user', content: [{ type: 'video', url: 'x' }] }] },
    { model: MODEL, messages: [{ role: 'user', content: 'x' }], stream: 'yes' },
    { model: MODEL, messages: [{ role: 'user', content: 'x' }], temperature: 'hot' },
    { model: MODEL, messages: [{ role: 'user', content: 'x' }], max_tokens: -1 },
    { model: MODEL, messages: [{ role: 'user', content: 'x' }], tools: 'all' },
    { model: MODEL, messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function', function: { name: '' } }] },
    { model: MODEL, messages: [{ role: 'user', content: 'x' }], tool_choice: { type: 'function', function: {} } },
    { model: MODEL, messages: [{ role: 'tool', content: 'x' }] },
    { model: MODEL, messages: [null] },
  ];
  for (const b of openaiBad) cases.push({ name: `openai wrong type ${J(b).slice(0, 80)}`, path: '/v1/chat/completions', dialect: 'openai', body: J(b), status: 400 });
  const anthropicBad: object[] = [
    { model: MODEL, messages: [{ role: 'user', content: 'x' }] }, // max_tokens missing
    { model: MODEL, max_tokens: 'ten', messages: [{ role: 'user', content: 'x' }] },
    { model: MODEL, max_tokens: 10, messages: [{ role: 'system', content: 'x' }] },
    { model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'tool_result' }] }] },
    { model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64' } }] }] },
    { model: MODEL, max_tokens: 10, system: 7, messages: [{ role: 'user', content: 'x' }] },
    { model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'x' }], tools: [{ name: 'a' }] },
    { model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'x' }], thinking: 'lots' },
    { model: MODEL, max_tokens: 10, messages: {} },
    { max_tokens: 10, messages: [{ role: 'user', content: 'x' }] },
  ];
  const responsesBad: object[] = [
    { model: MODEL },
    { model: MODEL, input: 42 },
    { model: MODEL, input: [] },
    { model: MODEL, input: [{ role: 'wizard', content: 'x' }] },
    { model: MODEL, input: [{ role: 'user', content: [{ type: 'input_video', url: 'x' }] }] },
    { model: MODEL, input: [{ type: 'function_call', call_id: 'c', name: 'f', arguments: {} }] },
    { model: MODEL, input: [{ type: 'function_call_output', output: 'x' }] },
    { model: MODEL, input: [{ foo: 1 }] },
    { model: MODEL, input: 'x', tools: [{ type: 'function' }] },
    { model: MODEL, input: 'x', tools: [{ type: 'namespace', name: 'n', tools: 'all' }] },
    { model: MODEL, input: 'x', tools: [{ type: 'code_interpreter' }] },
    { model: MODEL, input: 'x', max_output_tokens: 0 },
    { model: MODEL, input: 'x', reasoning: 'high' },
    { model: MODEL, input: 'x', text: { format: { type: 'json_schema' } } },
    { model: MODEL, input: 'x', previous_response_id: 7 },
    { model: MODEL, input: 'x', store: 'yes' },
    { model: MODEL, input: 'x', metadata: { a: 1 } },
    { model: MODEL, input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'file:///etc/passwd' }] }] },
    { model: MODEL, input: [{ type: 'function_call', call_id: 'c', name: 'f', arguments: nested(20000) }] },
  ];
  for (const b of responsesBad) cases.push({ name: `responses wrong type ${J(b).slice(0, 80)}`, path: '/v1/responses', dialect: 'responses', body: J(b), status: 400 });
  cases.push({ name: 'responses: an unknown previous_response_id', path: '/v1/responses', dialect: 'responses', body: J({ model: MODEL, input: 'x', previous_response_id: 'resp_never' }), status: 404 });
  for (const b of anthropicBad) cases.push({ name: `anthropic wrong type ${J(b).slice(0, 80)}`, path: '/v1/messages', dialect: 'anthropic', body: J(b), status: 400 });
  const geminiBad: object[] = [
    { contents: 'hello' },
    { contents: [] },
    { contents: [{ role: 'wizard', parts: [{ text: 'x' }] }] },
    { contents: [{ role: 'user', parts: 'x' }] },
    { contents: [{ role: 'user', parts: [{ text: 5 }] }] },
    { contents: [{ role: 'user', parts: [{}] }] },
    { contents: [{ role: 'user', parts: [{ text: 'x' }] }], generationConfig: { temperature: 'hot' } },
    { contents: [{ role: 'user', parts: [{ text: 'x' }] }], tools: 'all' },
    { contents: [{ role: 'user', parts: [{ text: 'x' }] }], systemInstruction: 5 },
    { contents: [{ role: 'user', parts: [{ inlineData: { data: 'AAAA' } }] }] },
  ];
  for (const b of geminiBad) cases.push({ name: `gemini wrong type ${J(b).slice(0, 80)}`, path: `/v1beta/models/${MODEL}:generateContent`, dialect: 'gemini', body: J(b), status: 400 });
  // --- huge and deep ---
  const huge = 'x'.repeat(1_200_000);
  for (const e of ENDPOINTS.slice(0, 4)) cases.push({ name: `body over BODY_LIMIT -> ${e.path}`, path: e.path, dialect: e.dialect, body: J(e.valid({ pad: huge })), status: 413 });
  cases.push({ name: 'a 100 KB model name', path: '/v1/chat/completions', dialect: 'openai', body: J({ model: 'm'.repeat(100_000), messages: [{ role: 'user', content: 'x' }] }) });
  cases.push({ name: 'content nested 5000 arrays deep', path: '/v1/chat/completions', dialect: 'openai', body: `{"model":"${MODEL}","messages":[{"role":"user","content":${deepArray(5000)}}]}`, status: 400 });
  cases.push({ name: 'messages nested 50000 arrays deep', path: '/v1/messages', dialect: 'anthropic', body: `{"model":"${MODEL}","max_tokens":5,"messages":${deepArray(50000)}}`, status: 400 });
  cases.push({ name: 'openai tool schema nested 20000 deep', path: '/v1/chat/completions', dialect: 'openai', body: splice({ model: MODEL, messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function', function: { name: 'f', parameters: '@@' } }] }, nested(20000)) });
  cases.push({ name: 'anthropic tool schema nested 20000 deep', path: '/v1/messages', dialect: 'anthropic', body: splice({ model: MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'x' }], tools: [{ name: 'f', input_schema: '@@' }] }, nested(20000)) });
  cases.push({ name: 'gemini tool schema nested 20000 deep', path: `/v1beta/models/${MODEL}:generateContent`, dialect: 'gemini', body: splice({ contents: [{ role: 'user', parts: [{ text: 'x' }] }], tools: [{ functionDeclarations: [{ name: 'f', parameters: '@@' }] }] }, nested(20000)) });
  cases.push({ name: 'tool call arguments nested 20000 deep in history', path: '/v1/chat/completions', dialect: 'openai', body: J({ model: MODEL, messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: nested(20000) } }] }, { role: 'tool', tool_call_id: 'c1', content: 'r' }] }) });
  cases.push({ name: '200000 messages', path: '/v1/messages/count_tokens', dialect: 'anthropic', body: J({ model: MODEL, messages: Array.from({ length: 200_000 }, () => ({ role: 'user', content: 'x' })) }), status: 413 });
  // --- unicode edge cases in names and roles ---
  for (const m of ['claude\u0000sonnet', 'claude-\u202esonnet', '\ud800', 'claude-sonnet-4-5\u200b', '👩‍💻', '../../etc/passwd', 'claude-cli/../../x', '%00', 'CON', ' ']) {
    cases.push({ name: `model ${J(m)} (openai)`, path: '/v1/chat/completions', dialect: 'openai', body: J({ model: m, messages: [{ role: 'user', content: 'x' }] }) });
    cases.push({ name: `model ${J(m)} (gemini path)`, path: `/v1beta/models/${m === '\ud800' ? '%ED%A0%80' : encodeURIComponent(m)}:generateContent`, dialect: 'gemini', body: J({ contents: [{ role: 'user', parts: [{ text: 'x' }] }] }) });
  }
  // --- routes and methods that do not exist ---
  cases.push({ name: 'GET on a POST endpoint', method: 'GET', path: '/v1/chat/completions', dialect: 'openai', status: 404 });
  cases.push({ name: 'unknown gemini method', path: `/v1beta/models/${MODEL}:explode`, dialect: 'gemini', body: '{}', status: 404 });
  cases.push({ name: 'gemini path without a method', path: `/v1beta/models/${MODEL}`, dialect: 'gemini', body: '{}', status: 404 });
  cases.push({ name: 'PUT on messages', method: 'PUT', path: '/v1/messages', dialect: 'anthropic', body: '{}', status: 404 });
  cases.push({ name: 'charset the server cannot read', path: '/v1/chat/completions', dialect: 'openai', body: J(ENDPOINTS[0]!.valid()), headers: { 'content-type': 'application/json; charset=latin1' }, status: 415 });
  cases.push({ name: 'gzip body that is not gzip', path: '/v1/chat/completions', dialect: 'openai', body: 'not gzip at all', headers: { 'content-encoding': 'gzip' }, status: 400 });
  cases.push({ name: 'unsupported content encoding', path: '/v1/chat/completions', dialect: 'openai', body: J(ENDPOINTS[0]!.valid()), headers: { 'content-encoding': 'br2' }, status: 415 });
  // --- the admin API ---
  const adminBad: [string, string, string | Buffer, number?][] = [
    ['POST', '/api/accounts', '{'],
    ['POST', '/api/accounts', '{"provider":"kiro","credentials":{"refresh_token":"x"},"__proto__":{"polluted":true}}'],
    ['POST', '/api/accounts', '{"provider":"kiro","credentials":{"__proto__":{"polluted":true}}}'],
    ['POST', '/api/accounts', J({ provider: 'kiro', id: '../../etc/passwd', credentials: { refresh_token: 'x' } })],
    ['POST', '/api/accounts', J({ provider: 'kiro', id: 'a\u0000b', credentials: { refresh_token: 'x' } })],
    ['POST', '/api/accounts', J({ provider: 'kiro', credentials: { refresh_token: 'x'.repeat(20_000) } })],
    ['POST', '/api/accounts', J({ provider: 'kiro', credentials: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}\n`, 'v'])) })],
    ['POST', '/api/accounts', J({ provider: 'kiro', weight: 1e308, credentials: { a: 'b' } })],
    ['POST', '/api/accounts', J({ provider: 'kiro', proxy: 'javascript:alert(1)', credentials: { a: 'b' } })],
    ['PATCH', '/api/accounts/business-1', J({ enabled: 'yes' })],
    ['PATCH', '/api/accounts/business-1', '[]'],
    ['PUT', '/api/config', splice({ store: { accounts: '@@' } }, nested(5000))],
    ['PUT', '/api/config', '{"store":{"__proto__":{"polluted":true},"accounts":[]}}'],
    ['PUT', '/api/config', J({ store: { accounts: [{ id: 'x', provider: 'kiro', credentials: { a: 1 }, weight: -5 }] } })],
    ['PUT', '/api/models/aliases/%2e%2e', J({ target: 'x' })],
    ['PUT', '/api/models/kiro', J({ models: ['<script>'] })],
    ['POST', '/api/proxy/test', J({ proxy: 'http://127.0.0.1:1', url: 'file:///etc/passwd' })],
    ['GET', '/api/usage?hours=1e999', ''],
    ['GET', '/api/history?limit=-1', ''],
    ['POST', '/api/login', J({ password: { $ne: '' } }), 400],
    ['POST', '/api/login', J({ password: 'x'.repeat(5000) }), 400],
    ['POST', '/api/accounts', Buffer.alloc(21 * 1024 * 1024, 0x20), 413],
  ];
  for (const [method, p, body, status] of adminBad) cases.push({ name: `admin ${method} ${p} ${String(body).slice(0, 60)}`, method, path: p, dialect: 'openai', body, asAdmin: true, ...(status ? { status } : {}) });
  return cases;
}

function send(c: Case) {
  const headers: Record<string, string> = {
    ...(c.body !== undefined ? { 'content-type': 'application/json' } : {}),
    ...(c.asAdmin ? { authorization: `Bearer ${admin}` } : { authorization: `Bearer ${KEY}` }),
    ...c.headers,
  };
  return fetchJson(`${stack.url}${c.path}`, { method: c.method ?? 'POST', headers, body: c.method === 'GET' ? undefined : (c.body as BodyInit | undefined) });
}

/** one raw HTTP request over a socket (for what fetch refuses to send) */
function raw(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const { port } = new URL(stack.url);
    const s = net.connect(Number(port), '127.0.0.1', () => s.end(request));
    let out = '';
    s.on('data', (d) => (out += d.toString('latin1')));
    s.on('end', () => resolve(out));
    s.on('error', reject);
    s.setTimeout(10_000, () => s.destroy(new Error('raw request timed out')));
  });
}

beforeAll(async () => {
  stack = await startStack({
    API_KEY: KEY,
    ADMIN_PASSWORD: PASSWORD,
    BODY_LIMIT: '1mb',
    CLAUDE_CLI_PATH: path.join(ROOT, 'tests/fakes/bin/fake-claude.mjs'),
    CLAUDE_ALLOWED_TOOLS: '',
  });
  admin = ((await (await fetch(`${stack.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: J({ password: PASSWORD }) })).json()) as any).token;
});
afterAll(async () => {
  await stack?.close();
});

describe('hostile input', () => {
  it('every case of the corpus is a clear 4xx in its dialect, and the server stays up', async () => {
    const cases = [...corpus(), ...(await imageCases())];
    const wrong: string[] = [];
    const byStatus: Record<number, number> = {};
    for (const c of cases) {
      const r = await send(c);
      byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
      const shape = errorShape(c.dialect, r.json);
      if (r.status < 400 || r.status >= 500) wrong.push(`${c.name}: HTTP ${r.status} ${r.text.slice(0, 160)}`);
      else if (c.status && r.status !== c.status) wrong.push(`${c.name}: HTTP ${r.status}, expected ${c.status}: ${r.text.slice(0, 160)}`);
      else if (shape) wrong.push(`${c.name}: ${shape}: ${r.text.slice(0, 160)}`);
    }
    console.log(`HOSTILE_REPORT ${J({ cases: cases.length, byStatus, wrong: wrong.length })}`);
    expect(wrong).toEqual([]);
    expect(cases.length).toBeGreaterThanOrEqual(200);
    // nothing was polluted, and the server still serves
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect((await fetch(`${stack.url}/health`)).status).toBe(200);
  }, 300_000);

  it('/image/ never leaves its folder, however the name is written', async () => {
    const names = ['..%2f..%2fetc%2fpasswd', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', '..%5c..%5cwindows', 'x.png%00.txt', '.env', '%2e%2e', 'a'.repeat(5000), '..', '....//....//etc/passwd', 'accounts.json'];
    for (const n of names) {
      const res = await raw(`GET /image/${n} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(res, n).toMatch(/^HTTP\/1\.1 (404|400|414|431)/);
      expect(res).not.toMatch(/root:|refresh_token/);
    }
    // dot segments sent raw, not normalised by a client
    const dots = await raw('GET /image/../../../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(dots).toMatch(/^HTTP\/1\.1 404/);
    expect(dots).not.toContain('root:');
  });

  it('header tricks: an unsafe request id is replaced, smuggled headers and oversized ones are refused', async () => {
    const res = await raw(`GET /health HTTP/1.1\r\nHost: x\r\nX-Request-ID: <script>alert(1)</script>\r\nConnection: close\r\n\r\n`);
    expect(res).toMatch(/^HTTP\/1\.1 200/);
    expect(res).toMatch(/X-Request-ID: [0-9a-f-]{36}\r\n/i);
    expect(res).not.toContain('<script>');
    const smuggle = await raw(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n`);
    expect(smuggle).toMatch(/^HTTP\/1\.1 400/);
    const bigHeader = await raw(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\nConnection: close\r\n\r\n`);
    expect(bigHeader).toMatch(/^HTTP\/1\.1 431/);
    const badLine = await raw('GARBAGE\r\n\r\n');
    expect(badLine).toMatch(/^HTTP\/1\.1 400/);
    expect((await fetch(`${stack.url}/health`)).status).toBe(200);
  });
});
