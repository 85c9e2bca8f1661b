/**
 * Replays real `claude -p --output-format stream-json --include-partial-messages`
 * output (recorded from claude 2.1.197 against tests/fakes/anthropic.ts) through the
 * translator, and asserts the exact StreamParts.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { StreamJsonTranslator } from '../../src/runtime/stream-json.js';
import type { StreamPart } from '../../src/core/stream.js';

const fixture = (name: string, cli = 'claude') =>
  readFileSync(path.join(import.meta.dirname, '../fixtures', cli, name), 'utf8').split('\n').filter(Boolean);

function replay(lines: string[], exit = { exitCode: 0 as number | null, stderr: '' }, cli = 'claude') {
  const t = new StreamJsonTranslator(cli);
  const parts: StreamPart[] = [];
  for (const l of lines) parts.push(...t.feed(l));
  const end = t.finish(exit);
  return { parts: [...parts, ...end.parts].filter((p) => p.type !== 'keepalive'), error: end.error };
}

const ev = (event: object) => JSON.stringify({ type: 'stream_event', event, parent_tool_use_id: null, session_id: 's' });
const result = (text: string) =>
  JSON.stringify({ type: 'result', subtype: 'success', is_error: false, result: text, usage: { input_tokens: 3, output_tokens: 4, cache_read_input_tokens: 10 } });

describe('StreamJsonTranslator (claude and qwen stream-json)', () => {
  it('real recorded run: text deltas, usage from the result line, finish', () => {
    const { parts, error } = replay(fixture('hello.stream.jsonl'));
    expect(error).toBeUndefined();
    expect(parts).toEqual([
      { type: 'text-delta', text: 'hi there' },
      { type: 'usage', usage: { inputTokens: 11, outputTokens: 2, cacheReadTokens: 0, cacheCreationTokens: 0 } },
      { type: 'finish', reason: 'stop' },
    ]);
  });

  it('real recorded 429: a rate-limit error with the CLI message', () => {
    const { parts, error } = replay(fixture('error-429.stream.jsonl'));
    expect(parts).toEqual([]);
    expect(error?.status).toBe(429);
    expect(error?.message).toMatch(/fake upstream says 429/);
  });

  it('real recorded 401: an auth error that says to check the login', () => {
    const { error } = replay(fixture('error-401.stream.jsonl'));
    expect(error?.status).toBe(401);
    expect(error?.message).toMatch(/logged in/);
  });

  it('real recorded qwen 0.15.10 run: same format, usage from its result line', () => {
    const { parts, error } = replay(fixture('hello.stream.jsonl', 'qwen'), undefined, 'qwen');
    expect(error).toBeUndefined();
    expect(parts.filter((p) => p.type === 'text-delta').map((p) => (p as { text: string }).text).join('')).toBe('hello from fake qwen');
    expect(parts.find((p) => p.type === 'usage')).toMatchObject({ usage: { inputTokens: 17, outputTokens: 4 } });
  });

  it('real recorded qwen 401: a "successful" result whose text is an API error becomes a 401, and its text is never answer text', () => {
    const { parts, error } = replay(fixture('error-401.stream.jsonl', 'qwen'), undefined, 'qwen');
    expect(error?.status).toBe(401);
    expect(error?.message).toMatch(/^qwen: .*fake openai says 401/);
    expect(parts.filter((p) => p.type === 'text-delta')).toEqual([]);
  });

  it('long answers stream live once past the hold-back', () => {
    const words = Array.from({ length: 100 }, (_, i) => `w${i} `);
    const t = new StreamJsonTranslator('claude');
    t.feed(ev({ type: 'message_start', message: {} }));
    t.feed(ev({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }));
    const perDelta = words.map((w) => t.feed(ev({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: w } })));
    const firstText = perDelta.findIndex((ps) => ps.some((p) => p.type === 'text-delta'));
    expect(firstText).toBeGreaterThan(0);
    expect(firstText).toBeLessThan(words.length - 1); // flushed well before the message ended
    // after the flush every delta comes out as it arrives
    for (const ps of perDelta.slice(firstText + 1)) expect(ps.filter((p) => p.type === 'text-delta')).toHaveLength(1);
  });

  it('drops the preamble before a web search and keeps the answer (server tool in one message)', () => {
    const lines = [
      ev({ type: 'message_start', message: {} }),
      ev({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
      ev({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: "I'll search for that." } }),
      ev({ type: 'content_block_stop', index: 0 }),
      ev({ type: 'content_block_start', index: 1, content_block: { type: 'server_tool_use', id: 'srv_1', name: 'web_search' } }),
      ev({ type: 'content_block_stop', index: 1 }),
      ev({ type: 'content_block_start', index: 2, content_block: { type: 'web_search_tool_result' } }),
      ev({ type: 'content_block_stop', index: 2 }),
      ev({ type: 'content_block_start', index: 3, content_block: { type: 'text', text: '' } }),
      ev({ type: 'content_block_delta', index: 3, delta: { type: 'text_delta', text: 'Paris is the capital.' } }),
      ev({ type: 'content_block_stop', index: 3 }),
      ev({ type: 'message_delta', delta: { stop_reason: 'end_turn' } }),
      ev({ type: 'message_stop' }),
      result("I'll search for that.Paris is the capital."),
    ];
    const { parts } = replay(lines);
    const text = parts.filter((p) => p.type === 'text-delta').map((p) => (p as { text: string }).text).join('');
    expect(text).toBe('Paris is the capital.');
  });

  it('drops a message that ends in a client tool call (WebFetch) and its tool traffic', () => {
    const lines = [
      ev({ type: 'message_start', message: {} }),
      ev({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
      ev({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Let me fetch the page.' } }),
      ev({ type: 'content_block_stop', index: 0 }),
      ev({ type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_1', name: 'WebFetch' } }),
      ev({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"url":"https://x"}' } }),
      ev({ type: 'content_block_stop', index: 1 }),
      ev({ type: 'message_delta', delta: { stop_reason: 'tool_use' } }),
      ev({ type: 'message_stop' }),
      JSON.stringify({ type: 'user', message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'page text' }] } }),
      ev({ type: 'message_start', message: {} }),
      ev({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
      ev({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'The page says hello.' } }),
      ev({ type: 'content_block_stop', index: 0 }),
      ev({ type: 'message_delta', delta: { stop_reason: 'end_turn' } }),
      ev({ type: 'message_stop' }),
      result('The page says hello.'),
    ];
    const { parts } = replay(lines);
    expect(parts.filter((p) => p.type === 'text-delta')).toEqual([{ type: 'text-delta', text: 'The page says hello.' }]);
    expect(parts.filter((p) => p.type === 'tool-call')).toEqual([]);
    expect(parts.find((p) => p.type === 'usage')).toEqual({
      type: 'usage',
      usage: { inputTokens: 13, outputTokens: 4, cacheReadTokens: 10, cacheCreationTokens: 0 },
    });
  });

  it('without tools there is no preamble to hold back: every delta streams at once', () => {
    const t = new StreamJsonTranslator('claude', false);
    t.feed(ev({ type: 'message_start', message: {} }));
    t.feed(ev({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }));
    expect(t.feed(ev({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi' } }))).toEqual([
      { type: 'text-delta', text: 'Hi' },
    ]);
  });

  it('thinking deltas become reasoning parts', () => {
    const { parts } = replay([
      ev({ type: 'message_start', message: {} }),
      ev({ type: 'content_block_start', index: 0, content_block: { type: 'thinking' } }),
      ev({ type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'hmm' } }),
      ev({ type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } }),
      ev({ type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'answer' } }),
      ev({ type: 'message_delta', delta: { stop_reason: 'end_turn' } }),
      result('answer'),
    ]);
    expect(parts.slice(0, 2)).toEqual([
      { type: 'reasoning-delta', text: 'hmm' },
      { type: 'text-delta', text: 'answer' },
    ]);
  });

  it('a CLI that dies without a result line is an upstream error carrying its stderr', () => {
    const { error } = replay(['not json', '{"type":"system","subtype":"init"}'], { exitCode: 1, stderr: 'Segmentation fault' });
    expect(error?.status).toBe(502);
    expect(error?.message).toMatch(/Segmentation fault/);
  });

  it('a CLI that says it is not logged in is a 401', () => {
    const { error } = replay([], { exitCode: 1, stderr: 'Invalid API key · Please run /login' });
    expect(error?.status).toBe(401);
  });
  it('a successful result line releases the held answer at once, before the process exits (Qwen Code takes 0.3-0.5 s more); an API error result releases nothing', () => {
    const t = new StreamJsonTranslator('qwen');
    const text = (parts: StreamPart[]) => parts.filter((p) => p.type === 'text-delta');
    // partial messages with no message_delta (as Qwen Code prints them): held until the result
    expect(text(t.feed(ev({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'pong' } })))).toEqual([]);
    expect(text(t.feed(result('pong')))).toEqual([{ type: 'text-delta', text: 'pong' }]);
    expect(t.finish({ exitCode: 0, stderr: '' }).parts.filter((p) => p.type === 'text-delta')).toEqual([]);
    // no text before the result: the result's text is the answer, once
    const bare = new StreamJsonTranslator('claude');
    expect(text(bare.feed(result('only in the result')))).toEqual([{ type: 'text-delta', text: 'only in the result' }]);
    expect(bare.finish({ exitCode: 0, stderr: '' }).parts.filter((p) => p.type === 'text-delta')).toEqual([]);
    const failed = new StreamJsonTranslator('qwen');
    failed.feed(ev({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'partial' } }));
    expect(text(failed.feed(result('[API Error: 429 Too many requests]')))).toEqual([]);
    expect(failed.finish({ exitCode: 0, stderr: '' }).error?.status).toBe(429);
  });
});
