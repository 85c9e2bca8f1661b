/** Progress markers for "-progress" models: sequence, spacing, and history clean-up. */
import { describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StreamPart } from '../../src/core/stream.js';
import { ANSWER_SEPARATOR, FIRST_MARKER, progressDelay, progressFrame, stripProgress, withProgress } from '../../src/features/progress.js';

describe('progress markers', () => {
  it('spacing doubles from the first interval and stops growing at the max', () => {
    const t = { firstMs: 2000, maxMs: 30_000 };
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => progressDelay(n, t))).toEqual([2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('frames rotate ◐ ◓ ◑ ◒ and add a dot each time, up to five', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map(progressFrame)).toEqual([' ◐.', ' ◓..', ' ◑...', ' ◒....', ' ◐.....', ' ◓.....', ' ◑.....']);
  });

  it('⏳ at once, frames in order while the CLI works, a blank line, then the answer untouched', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    async function* cli(): AsyncGenerator<StreamPart> {
      yield { type: 'keepalive' };
      await gate;
      yield { type: 'text-delta', text: 'The answer.' };
      yield { type: 'usage', usage: { inputTokens: 1, outputTokens: 2 } };
      yield { type: 'finish', reason: 'stop' };
    }
    const out: StreamPart[] = [];
    const done = (async () => {
      for await (const p of withProgress(cli(), { firstMs: 5, maxMs: 20 })) out.push(p);
    })();
    // release the answer only once three frames have been shown
    while (out.filter((p) => p.type === 'text-delta').length < 4) await sleep(5);
    release();
    await done;
    const texts = out.flatMap((p) => (p.type === 'text-delta' ? [p.text] : []));
    const answerAt = texts.indexOf('The answer.');
    expect(texts[0]).toBe(FIRST_MARKER);
    expect(texts.slice(1, answerAt - 1)).toEqual(texts.slice(1, answerAt - 1).map((_, i) => progressFrame(i)));
    expect(answerAt - 2).toBeGreaterThanOrEqual(3);
    expect(texts[answerAt - 1]).toBe(ANSWER_SEPARATOR);
    // keepalive, usage and finish pass through in their order
    expect(out.map((p) => p.type).filter((t) => t !== 'text-delta')).toEqual(['keepalive', 'usage', 'finish']);
  });

  it('no frames after the answer has started, however long the rest takes', async () => {
    async function* cli(): AsyncGenerator<StreamPart> {
      yield { type: 'text-delta', text: 'a' };
      await sleep(60);
      yield { type: 'text-delta', text: 'b' };
    }
    const texts: string[] = [];
    for await (const p of withProgress(cli(), { firstMs: 5, maxMs: 5 })) if (p.type === 'text-delta') texts.push(p.text);
    expect(texts).toEqual([FIRST_MARKER, ANSWER_SEPARATOR, 'a', 'b']);
  });

  it('an error ends the markers without a separator', async () => {
    async function* cli(): AsyncGenerator<StreamPart> {
      yield { type: 'error', error: new Error('x') as never };
    }
    const types: string[] = [];
    for await (const p of withProgress(cli(), { firstMs: 1000, maxMs: 1000 })) types.push(p.type === 'text-delta' ? p.text : p.type);
    expect(types).toEqual([FIRST_MARKER, 'error']);
  });

  it('markers are removed from earlier answers the client sends back', () => {
    const history = stripProgress([
      { role: 'user', content: [{ type: 'text', text: `${FIRST_MARKER} stays in a user turn` }] },
      { role: 'assistant', content: [{ type: 'text', text: `${FIRST_MARKER}${progressFrame(0)}${progressFrame(1)}${ANSWER_SEPARATOR}Paris.` }] },
    ]);
    expect(history[0]!.content[0]).toEqual({ type: 'text', text: `${FIRST_MARKER} stays in a user turn` });
    expect(history[1]!.content[0]).toEqual({ type: 'text', text: 'Paris.' });
  });
});
