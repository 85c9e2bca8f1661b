/** The Gemini CLI's stream-json lines: the held answer goes out with a successful result line, before the process exits. */
import { describe, expect, it } from 'vitest';
import { GeminiStreamTranslator } from '../../../src/providers/gemini/translate.js';

describe('GeminiStreamTranslator', () => {
  it('a successful result releases the held answer at once; finish adds usage and stop', () => {
    const t = new GeminiStreamTranslator(true);
    expect(t.feed(JSON.stringify({ type: 'message', role: 'assistant', content: 'pong', delta: true }))).toEqual([{ type: 'keepalive' }]);
    expect(t.feed(JSON.stringify({ type: 'result', status: 'success', stats: { input_tokens: 7, output_tokens: 1 } }))).toEqual([{ type: 'text-delta', text: 'pong' }]);
    expect(t.finish({ exitCode: 0, stderr: '' }).parts).toEqual([
      { type: 'usage', usage: { inputTokens: 7, outputTokens: 1, cacheReadTokens: 0 } },
      { type: 'finish', reason: 'stop' },
    ]);
  });

  it('an error result releases nothing', () => {
    const t = new GeminiStreamTranslator(true);
    t.feed(JSON.stringify({ type: 'message', role: 'assistant', content: 'partial', delta: true }));
    expect(t.feed(JSON.stringify({ type: 'result', status: 'error', error: { message: '[API Error: {"error":{"code":429}}]' } }))).toEqual([]);
    const { parts, error } = t.finish({ exitCode: 1, stderr: '' });
    expect(parts).toEqual([]);
    expect(error?.status).toBe(429);
  });
});
