/**
 * The hand checks of the common request (isPlainChatCompletion, isPlainMessages) against the zod
 * schemas they stand in for: a body the check passes is one the schema accepts and returns with
 * the same values; everything else is left to the schema.
 */
import { describe, expect, it } from 'vitest';
import { chatCompletionSchema, isPlainChatCompletion } from '../../src/surfaces/openai/schema.js';
import { isPlainMessages, messagesSchema } from '../../src/surfaces/anthropic/schema.js';

const openaiBase = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
const anthropicBase = { model: 'm', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] };

/** variations of a base body: each field replaced or added with values of every kind */
function variants(base: Record<string, unknown>, fields: string[]): unknown[] {
  const values: unknown[] = [undefined, null, '', 'x', 0, -1, 0.5, 1, 1.5, 2, 3, 64, 2 ** 60, true, false, [], ['a'], ['a', 'b', 'c', 'd', 'e'], {}, { include_usage: true }, { include_usage: 'yes' }, { other: 1 }];
  const out: unknown[] = [base, null, [], 'text', 1, {}];
  for (const f of fields) for (const v of values) out.push({ ...base, [f]: v });
  const roles = ['user', 'assistant', 'system', 'developer', 'tool', 'function', 'bot', undefined];
  const contents: unknown[] = ['hi', '', null, undefined, 3, [{ type: 'text', text: 'hi' }]];
  for (const role of roles) for (const content of contents) {
    out.push({ ...base, messages: [{ role, content }] });
    out.push({ ...base, messages: [{ role, content, name: 'n' }] });
    out.push({ ...base, messages: [{ role, content, extra: 1 }] });
  }
  out.push({ ...base, messages: [] }, { ...base, messages: 'hi' }, { ...base, messages: [null] }, { ...base, messages: [['user', 'hi']] });
  out.push(JSON.parse('{"model":"m","messages":[{"role":"user","content":"hi"}],"__proto__":{"x":1}}'));
  return out;
}

const cases = [
  { name: 'openai', check: isPlainChatCompletion, schema: chatCompletionSchema, base: openaiBase, fields: ['model', 'stream', 'stream_options', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'user', 'n', 'stop', 'tools', 'unknown_field'] },
  { name: 'anthropic', check: isPlainMessages, schema: messagesSchema, base: anthropicBase, fields: ['model', 'max_tokens', 'stream', 'system', 'temperature', 'top_p', 'top_k', 'stop_sequences', 'metadata', 'unknown_field'] },
] as const;

describe.each(cases)('$name: the plain check stands in for the schema', ({ check, schema, base, fields }) => {
  it('passes only bodies the schema accepts, and the schema returns them unchanged', () => {
    let plain = 0;
    for (const body of variants(base, [...fields])) {
      if (!check(body)) continue;
      plain++;
      const parsed = schema.safeParse(body);
      expect(parsed.success, JSON.stringify(body)).toBe(true);
      // (a field given as undefined may come back as a key holding undefined: the same values)
      expect(parsed.data, JSON.stringify(body)).toEqual(body);
    }
    // the common requests do take the plain path
    expect(plain).toBeGreaterThan(20);
  });

  it('passes the common request', () => {
    expect(check(base)).toBe(true);
    expect(check({ ...base, stream: true, temperature: 0.5, messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }, { role: 'user', content: 'c' }] })).toBe(true);
  });
});
