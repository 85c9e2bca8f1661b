/**
 * Images through every surface to every CLI: each real CLI is shown the image the way
 * it reads images, and its fake upstream receives the image bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { startStack, type TestStack } from '../helpers/server.js';
import { liveSandboxes } from '../../src/runtime/sandbox.js';
import { backgroundSettled } from '../../src/runtime/background.js';

let stack: TestStack;
let png: Buffer;
let b64: string;

beforeAll(async () => {
  stack = await startStack({});
  png = await sharp({ create: { width: 12, height: 9, channels: 3, background: '#12ab34' } }).png().toBuffer();
  b64 = png.toString('base64');
});
afterAll(async () => stack?.close());

const openai = () => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'x', maxRetries: 0 });
const dataUrl = () => `data:image/png;base64,${b64}`;

function last<T extends { path: string }>(list: T[], path: RegExp): T {
  const r = [...list].reverse().find((x) => path.test(x.path));
  if (!r) throw new Error(`no request to ${path}`);
  return r;
}

describe('images reach each CLI’s upstream', () => {
  it('claude (OpenAI image_url data URL): an image block in the Messages request', async () => {
    stack.fake.setScript({ reply: 'A green rectangle.' });
    const r = await openai().chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: dataUrl() } }] }],
    });
    expect(r.choices[0]!.message.content).toBe('A green rectangle.');
    const body = last(stack.fake.requests, /\/v1\/messages$/).body;
    const blocks = body.messages.at(-1).content as any[];
    expect(blocks.find((b) => b.type === 'image')?.source).toEqual({ type: 'base64', media_type: 'image/png', data: b64 });
    expect(blocks.some((b) => b.type === 'text' && String(b.text).includes('[Image #1]'))).toBe(true);
  });

  it('gemini (Anthropic image block): inlineData in the generateContent request', async () => {
    const client = new Anthropic({ baseURL: stack.url, apiKey: 'x', maxRetries: 0 });
    await client.messages.create({
      model: 'gemini-2.5-flash',
      max_tokens: 64,
      messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: b64 } }, { type: 'text', text: 'Describe it' }] }],
    });
    const body = last(stack.gemini.requests, /streamGenerateContent/).body;
    const parts = body.contents.flatMap((c: any) => c.parts);
    expect(parts.find((p: any) => p.inlineData)?.inlineData).toEqual({ data: b64, mimeType: 'image/png' });
  });

  it('codex (Gemini inlineData): input_image in the Responses request', async () => {
    const ai = new GoogleGenAI({ apiKey: 'x', httpOptions: { baseUrl: stack.url } });
    await ai.models.generateContent({ model: 'gpt-5', contents: [{ role: 'user', parts: [{ text: 'What is it?' }, { inlineData: { mimeType: 'image/png', data: b64 } }] }] });
    const input = last(stack.openai.requests, /\/responses$/).body.input as any[];
    const content = input.at(-1).content as any[];
    expect(content.find((c) => c.type === 'input_image')?.image_url).toBe(dataUrl());
  });

  it('qwen with a vision model (qwen3-vl-plus): image_url in the chat request', async () => {
    await openai().chat.completions.create({
      model: 'qwen3-vl-plus',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What is it?' }, { type: 'image_url', image_url: { url: dataUrl() } }] }],
    });
    const msgs = last(stack.openai.requests, /\/chat\/completions$/).body.messages as any[];
    const parts = msgs.at(-1).content as any[];
    expect(parts.find((p) => p.type === 'image_url')?.image_url.url).toBe(dataUrl());
  });

  it('the image files go with the sandbox', async () => {
    await backgroundSettled();
    expect(liveSandboxes()).toEqual([]);
  });
});

describe('bad images get each dialect’s 400', () => {
  const pdf = Buffer.from('%PDF-1.4 not an image').toString('base64');

  it('OpenAI', async () => {
    const err = await openai()
      .chat.completions.create({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: `data:image/png;base64,${pdf}` } }] }] })
      .catch((e: unknown) => e);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(400);
    expect((err as InstanceType<typeof OpenAI.APIError>).code).toBe('unsupported_image_type');
    expect((err as Error).message).toMatch(/a PDF document.*PNG, JPEG, GIF, WebP, BMP or TIFF/);
  });

  it('Anthropic', async () => {
    const res = await fetch(`${stack.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: pdf } }] }] }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    expect(body.type).toBe('error');
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toMatch(/a PDF document/);
  });

  it('Gemini', async () => {
    const res = await fetch(`${stack.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ inlineData: { mimeType: 'image/png', data: pdf } }] }] }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    expect(body.error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT' });
    expect(body.error.message).toMatch(/a PDF document/);
  });
});
