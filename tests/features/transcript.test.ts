/** renderTranscript: the one prompt a CLI gets on stdin. */
import { describe, expect, it } from 'vitest';
import { renderTranscript } from '../../src/features/transcript.js';
import type { ChatMessage, ChatRequest } from '../../src/core/request.js';

const req = (messages: ChatMessage[], extra: Partial<ChatRequest> = {}): ChatRequest => ({
  model: 'm',
  messages,
  stream: false,
  ...extra,
});
const user = (text: string): ChatMessage => ({ role: 'user', content: [{ type: 'text', text }] });
const assistant = (text: string): ChatMessage => ({ role: 'assistant', content: [{ type: 'text', text }] });

/** each needle appears, in this order, each after the previous one */
function expectInOrder(haystack: string, needles: string[]): void {
  let from = 0;
  for (const needle of needles) {
    const at = haystack.indexOf(needle, from);
    expect(at, `"${needle}" after position ${from} in:\n${haystack}`).toBeGreaterThanOrEqual(0);
    from = at + needle.length;
  }
}

describe('renderTranscript', () => {
  it('passes a lone user message verbatim', () => {
    const text = 'Explain <turn role="User"> tags,\n  "quotes" and\n\nblank lines — verbatim.';
    expect(renderTranscript(req([user(text)]))).toBe(text);
  });

  it('a lone user message is verbatim even when a system prompt is set (the system goes elsewhere)', () => {
    expect(renderTranscript(req([user('hello')], { system: 'be brief' }))).toBe('hello');
  });

  it('renders every turn of a multi-turn history in order, each with its role label', () => {
    const out = renderTranscript(
      req([user('first question'), assistant('first answer'), user('second question'), assistant('second answer'), user('third question')]),
    );
    expectInOrder(out, [
      'User',
      'first question',
      'Assistant',
      'first answer',
      'User',
      'second question',
      'Assistant',
      'second answer',
      'User',
      'third question',
    ]);
    // no turn is repeated or lost
    for (const t of ['first question', 'first answer', 'second question', 'second answer', 'third question']) {
      expect(out.split(t).length - 1, t).toBe(1);
    }
  });

  it('keeps assistant tool calls and tool results, with their ids, in order', () => {
    const out = renderTranscript(
      req([
        user('What is the weather in Oslo?'),
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Let me check.' },
            { type: 'tool-call', id: 'call_abc123', name: 'get_weather', arguments: '{"city":"Oslo"}' },
          ],
        },
        { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'call_abc123', name: 'get_weather', content: 'sunny, 21C' }] },
        user('And tomorrow?'),
      ]),
    );
    expectInOrder(out, [
      'User',
      'What is the weather in Oslo?',
      'Assistant',
      'Let me check.',
      'get_weather',
      'call_abc123',
      '{"city":"Oslo"}',
      'Tool',
      'call_abc123',
      'sunny, 21C',
      'User',
      'And tomorrow?',
    ]);
  });

  it('marks a failed tool result as an error', () => {
    const out = renderTranscript(
      req([
        user('go'),
        { role: 'assistant', content: [{ type: 'tool-call', id: 'call_9', name: 'fetch', arguments: '{}' }] },
        { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'call_9', content: 'HTTP 500', isError: true }] },
        user('retry?'),
      ]),
    );
    expectInOrder(out, ['call_9', 'error', 'HTTP 500', 'retry?']);
  });

  it('ends with an instruction to answer the last turn', () => {
    const out = renderTranscript(req([user('q1'), assistant('a1'), user('the last question')]));
    const tail = out.slice(out.lastIndexOf('the last question') + 'the last question'.length);
    expect(tail).toMatch(/\b(reply|answer|respond)\b/i);
    expect(tail).toMatch(/last turn/i);
  });

  it('asks to continue when the history ends with an assistant turn', () => {
    const out = renderTranscript(req([user('q1'), assistant('partial answer')]));
    const tail = out.slice(out.lastIndexOf('partial answer') + 'partial answer'.length);
    expect(tail).toMatch(/continue/i);
  });

  it('a single non-user message is rendered as a transcript, not passed bare', () => {
    const out = renderTranscript(
      req([{ role: 'tool', content: [{ type: 'tool-result', toolCallId: 'call_1', content: 'result text' }] }]),
    );
    expect(out).not.toBe('result text');
    expectInOrder(out, ['Tool', 'call_1', 'result text']);
  });
});
