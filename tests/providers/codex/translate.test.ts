/** Codex's `exec --json` lines: the held answer goes out when the turn completes, before the process exits. */
import { describe, expect, it } from 'vitest';
import { CodexStreamTranslator } from '../../../src/providers/codex/translate.js';

const exit = { exitCode: 0, stderr: '' };

describe('CodexStreamTranslator', () => {
  it('a completed turn releases the held answer at once; finish adds usage and stop', () => {
    const t = new CodexStreamTranslator();
    expect(t.feed(JSON.stringify({ type: 'item.completed', item: { type: 'agent_message', text: 'pong' } }))).toEqual([{ type: 'keepalive' }]);
    expect(t.feed(JSON.stringify({ type: 'turn.completed', usage: { input_tokens: 5, output_tokens: 1 } }))).toEqual([{ type: 'text-delta', text: 'pong' }]);
    expect(t.finish(exit).parts).toEqual([
      { type: 'usage', usage: { inputTokens: 5, outputTokens: 1, cacheReadTokens: 0 } },
      { type: 'finish', reason: 'stop' },
    ]);
  });

  it('a failed turn releases nothing: the error is the answer', () => {
    const t = new CodexStreamTranslator();
    t.feed(JSON.stringify({ type: 'item.completed', item: { type: 'agent_message', text: 'partial' } }));
    expect(t.feed(JSON.stringify({ type: 'turn.failed', error: { message: 'unexpected status 429 Too Many Requests' } }))).toEqual([]);
    const { parts, error } = t.finish({ exitCode: 1, stderr: '' });
    expect(parts).toEqual([]);
    expect(error?.status).toBe(429);
  });
});
