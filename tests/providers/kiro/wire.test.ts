/** Kiro wire pieces: request shape rules, thinking split, tool input repair, event decoding. */
import { describe, expect, it } from 'vitest';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { buildRequest } from '../../../src/providers/kiro/request.js';
import { KiroTranslator, ThinkingSplitter, kiroEvents, toolArguments } from '../../../src/providers/kiro/events.js';
import type { StreamPart } from '../../../src/core/stream.js';

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const frame = (type: string, payload: unknown, kind = 'event') =>
  codec.encode({
    headers: { ':event-type': { type: 'string', value: type }, ':message-type': { type: 'string', value: kind }, ...(kind === 'exception' ? { ':exception-type': { type: 'string', value: type } } : {}) },
    body: fromUtf8(JSON.stringify(payload)),
  });

describe('buildRequest', () => {
  it('starts and ends with the user, merges same-role turns, system leads the first user turn', () => {
    const r = buildRequest(
      {
        model: 'm',
        stream: false,
        system: 'SYS',
        messages: [
          { role: 'assistant', content: [{ type: 'text', text: 'prefilled' }] },
          { role: 'user', content: [{ type: 'text', text: 'a' }] },
          { role: 'user', content: [{ type: 'text', text: 'b' }] },
          { role: 'assistant', content: [{ type: 'text', text: 'c' }] },
        ],
      },
      { modelId: 'X', thinking: false },
    );
    const h = r.conversationState.history.map((e) => ('userInputMessage' in e ? `U:${e.userInputMessage.content}` : `A:${e.assistantResponseMessage.content}`));
    expect(h).toEqual(['U:SYS\n\n(start of conversation)', 'A:prefilled', 'U:a\n\nb', 'A:c']);
    expect(r.conversationState.currentMessage.userInputMessage.content).toBe('Continue.');
  });
});

describe('ThinkingSplitter', () => {
  const run = (deltas: string[]) => {
    const s = new ThinkingSplitter(true);
    const out: StreamPart[] = [];
    for (const d of deltas) out.push(...s.push(d));
    out.push(...s.flush());
    const join = (t: string) => out.flatMap((p) => (p.type === t ? [(p as { text: string }).text] : [])).join('');
    return { reasoning: join('reasoning-delta'), text: join('text-delta') };
  };
  it('splits a leading thinking block however the tags are cut', () => {
    const whole = '<thinking>step one</thinking>\n\nThe answer.';
    for (const size of [1, 2, 3, 5, 100]) {
      const deltas = whole.match(new RegExp(`[\\s\\S]{1,${size}}`, 'g'))!;
      expect(run(deltas)).toEqual({ reasoning: 'step one', text: 'The answer.' });
    }
  });
  it('text without a leading block is all text, tags later on included', () => {
    expect(run(['Plain <thinking>not a block</thinking>'])).toEqual({ reasoning: '', text: 'Plain <thinking>not a block</thinking>' });
  });
});

describe('tool input', () => {
  it('valid JSON passes, a small defect is repaired, a cut-off input is a clear error', () => {
    expect(toolArguments('t', '{"a":1}')).toBe('{"a":1}');
    expect(toolArguments('t', '')).toBe('{}');
    expect(JSON.parse(toolArguments('t', "{'a': 1,}"))).toEqual({ a: 1 });
    expect(() => toolArguments('write_file', '{"path": "x", "content": ')).toThrow(/write_file.*not valid JSON.*cut short/);
  });
});

describe('event stream decoding', () => {
  it('decodes frames cut anywhere into typed events; an exception becomes a typed error', async () => {
    const all = Buffer.concat([frame('assistantResponseEvent', { content: 'hi' }), frame('toolUseEvent', { toolUseId: 't1', name: 'f', input: '{"x"' }), frame('toolUseEvent', { toolUseId: 't1', input: ':1}', stop: true })]);
    async function* pieces() {
      for (let i = 0; i < all.length; i += 3) yield all.subarray(i, i + 3);
    }
    const x = new KiroTranslator(false);
    const parts: StreamPart[] = [];
    for await (const e of kiroEvents(pieces())) parts.push(...x.event(e.type, e.payload));
    expect(parts).toEqual([
      { type: 'text-delta', text: 'hi' },
      { type: 'tool-call', id: 't1', name: 'f', arguments: '{"x":1}' },
    ]);
    async function* failing() {
      yield frame('ThrottlingException', { message: 'slow down' }, 'exception');
    }
    const y = new KiroTranslator(false);
    const err = await (async () => {
      for await (const e of kiroEvents(failing())) y.event(e.type, e.payload);
    })().catch((e: unknown) => e);
    expect((err as { status: number }).status).toBe(429);
  });
});
