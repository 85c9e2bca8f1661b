/**
 * Every surface × every provider available in tests, one streamed and one
 * non-streamed exchange each, asserting the answer text and a usage figure
 * in each dialect's own shape. A new provider adds a row to PROVIDERS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type TestStack } from '../helpers/server.js';

const REPLY = 'matrix answer from upstream';
const PROVIDERS = [
  { id: 'claude-cli', model: 'claude-sonnet-4-5' },
  { id: 'gemini-cli', model: 'gemini-2.5-flash' },
  { id: 'qwen-cli', model: 'qwen3-coder-plus' },
  { id: 'codex-cli', model: 'gpt-5' },
];

interface Dialect {
  name: string;
  request(model: string, stream: boolean): { path: string; body: unknown };
  /** text and output tokens out of a JSON response */
  json(body: any): { text: string; outputTokens: number };
  /** text and output tokens out of the SSE data payloads */
  sse(events: any[]): { text: string; outputTokens: number };
}

const user = 'say the matrix answer';
const DIALECTS: Dialect[] = [
  {
    name: 'openai',
    request: (model, stream) => ({
      path: '/v1/chat/completions',
      body: { model, stream, stream_options: stream ? { include_usage: true } : undefined, messages: [{ role: 'user', content: user }] },
    }),
    json: (b) => ({ text: b.choices[0].message.content, outputTokens: b.usage.completion_tokens }),
    sse: (evs) => ({
      text: evs.map((e) => e.choices?.[0]?.delta?.content ?? '').join(''),
      outputTokens: evs.at(-1).usage.completion_tokens,
    }),
  },
  {
    name: 'anthropic',
    request: (model, stream) => ({ path: '/v1/messages', body: { model, stream, max_tokens: 100, messages: [{ role: 'user', content: user }] } }),
    json: (b) => ({ text: b.content.map((c: any) => c.text).join(''), outputTokens: b.usage.output_tokens }),
    sse: (evs) => ({
      text: evs.filter((e) => e.type === 'content_block_delta').map((e) => e.delta.text).join(''),
      outputTokens: evs.find((e) => e.type === 'message_delta').usage.output_tokens,
    }),
  },
  {
    name: 'responses',
    request: (model, stream) => ({ path: '/v1/responses', body: { model, stream, store: false, input: user } }),
    json: (b) => ({ text: b.output.filter((o: any) => o.type === 'message').map((o: any) => o.content[0].text).join(''), outputTokens: b.usage.output_tokens }),
    sse: (evs) => ({
      text: evs.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta).join(''),
      outputTokens: evs.find((e) => e.type === 'response.completed').response.usage.output_tokens,
    }),
  },
  {
    name: 'gemini',
    request: (model, stream) => ({
      path: `/v1beta/models/${model}:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`,
      body: { contents: [{ role: 'user', parts: [{ text: user }] }] },
    }),
    json: (b) => ({ text: b.candidates[0].content.parts.map((p: any) => p.text).join(''), outputTokens: b.usageMetadata.candidatesTokenCount }),
    sse: (evs) => ({
      text: evs.map((e) => e.candidates[0].content.parts.map((p: any) => p.text ?? '').join('')).join(''),
      outputTokens: evs.at(-1).usageMetadata.candidatesTokenCount,
    }),
  },
  {
    name: 'gemini-backend-proxy',
    request: (model, stream) => ({
      path: stream ? '/api/ai/generate-stream' : '/api/ai/generate',
      body: { model, contents: [{ role: 'user', parts: [{ text: user }] }], config: {} },
    }),
    json: (b) => ({ text: b.candidates[0].content.parts.map((p: any) => p.text).join(''), outputTokens: b.usageMetadata.candidatesTokenCount }),
    sse: (evs) => ({
      text: evs.map((e) => e.candidates[0].content.parts.map((p: any) => p.text ?? '').join('')).join(''),
      outputTokens: evs.at(-1).usageMetadata.candidatesTokenCount,
    }),
  },
];

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({}, { reply: REPLY, usage: { input_tokens: 5, output_tokens: 4 } });
  stack.gemini.setScript({ reply: REPLY, usage: { promptTokenCount: 5, candidatesTokenCount: 4 } });
  stack.openai.setScript({ reply: REPLY, usage: { prompt_tokens: 5, completion_tokens: 4 } });
});
afterAll(async () => stack?.close());

describe.each(PROVIDERS)('provider $id', ({ model }) => {
  for (const d of DIALECTS) {
    for (const stream of [false, true]) {
      it(`${d.name} ${stream ? 'stream' : 'non-stream'}`, async () => {
        const { path, body } = d.request(model, stream);
        const res = await fetch(`${stack.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        expect(res.status).toBe(200);
        let got: { text: string; outputTokens: number };
        if (stream) {
          expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
          const events = (await res.text())
            .split('\n')
            .filter((l) => l.startsWith('data: ') && l !== 'data: [DONE]')
            .map((l) => JSON.parse(l.slice(6)));
          got = d.sse(events);
        } else {
          got = d.json(await res.json());
        }
        expect(got.text).toBe(REPLY);
        expect(got.outputTokens).toBe(4);
      });
    }
  }
});
