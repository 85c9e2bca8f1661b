/** Reading tool calls out of model text, as models really write them, streamed in any pieces. */
import { describe, expect, it } from 'vitest';
import type { StreamPart } from '../../src/core/stream.js';
import type { ToolChoice, ToolDefinition } from '../../src/core/request.js';
import { emulateToolCalls, ToolCallExtractor } from '../../src/features/tools/extract.js';
import { emulateTools } from '../../src/features/tools/index.js';

const tools: ToolDefinition[] = [
  { name: 'read_file', parameters: { type: 'object', properties: { path: { type: 'string' } } } },
  { name: 'write_file', parameters: { type: 'object', properties: { path: { type: 'string' }, content: { type: 'string' } } } },
];

/** feeds the answer in pieces of `size` characters */
async function run(answer: string, size = 3, choice?: ToolChoice): Promise<StreamPart[]> {
  async function* source(): AsyncGenerator<StreamPart> {
    for (let i = 0; i < answer.length; i += size) yield { type: 'text-delta', text: answer.slice(i, i + size) };
    yield { type: 'usage', usage: { inputTokens: 5, outputTokens: 7 } };
    yield { type: 'finish', reason: 'stop' };
  }
  const out: StreamPart[] = [];
  for await (const p of emulateToolCalls(source(), tools, choice)) if (p.type !== 'keepalive') out.push(p);
  return out;
}

const text = (parts: StreamPart[]) => parts.flatMap((p) => (p.type === 'text-delta' ? [p.text] : [])).join('');
const calls = (parts: StreamPart[]) => parts.flatMap((p) => (p.type === 'tool-call' ? [{ name: p.name, args: JSON.parse(p.arguments) }] : []));
const finish = (parts: StreamPart[]) => parts.find((p) => p.type === 'finish');
const error = (parts: StreamPart[]) => parts.find((p) => p.type === 'error');

describe('tool-call extraction', () => {
  for (const size of [1, 2, 7, 1000]) {
    it(`prose then two calls, fed ${size} characters at a time`, async () => {
      const parts = await run(
        'I will read both.\n<tool_call>\n{"name": "read_file", "arguments": {"path": "a.ts"}}\n</tool_call>\n<tool_call>\n{"name": "read_file", "arguments": {"path": "b.ts"}}\n</tool_call>',
        size,
      );
      expect(text(parts)).toBe('I will read both.\n');
      expect(calls(parts)).toEqual([
        { name: 'read_file', args: { path: 'a.ts' } },
        { name: 'read_file', args: { path: 'b.ts' } },
      ]);
      expect(finish(parts)).toEqual({ type: 'finish', reason: 'tool-calls' });
      // usage keeps its place before the finish
      expect(parts.findIndex((p) => p.type === 'usage')).toBeLessThan(parts.findIndex((p) => p.type === 'finish'));
    });
  }

  it('a code fence inside the block, and a missing close tag at the very end', async () => {
    const parts = await run('<tool_call>\n```json\n{"name": "write_file", "arguments": {"path": "x", "content": "line1\\nline2"}}\n```');
    expect(calls(parts)).toEqual([{ name: 'write_file', args: { path: 'x', content: 'line1\nline2' } }]);
  });

  it('a fenced JSON call without the tags, in OpenAI wire shape, with arguments as a string', async () => {
    const parts = await run('```json\n{"function": {"name": "read_file", "arguments": "{\\"path\\": \\"c.md\\"}"}}\n```');
    expect(calls(parts)).toEqual([{ name: 'read_file', args: { path: 'c.md' } }]);
    expect(text(parts)).toBe('');
  });

  it('a JSON array of calls in one block, "parameters" for "arguments"', async () => {
    const parts = await run('<tool_call>[{"name":"read_file","parameters":{"path":"1"}},{"name":"read_file","input":{"path":"2"}}]</tool_call>');
    expect(calls(parts).map((c) => c.args.path)).toEqual(['1', '2']);
  });

  it("Claude's own <invoke> markup is read too", async () => {
    const parts = await run(
      'Reading.\n<function_calls>\n<invoke name="write_file">\n<parameter name="path">n.txt</parameter>\n<parameter name="content">a &lt; b</parameter>\n</invoke>\n</function_calls>',
    );
    expect(text(parts)).toBe('Reading.\n');
    expect(calls(parts)).toEqual([{ name: 'write_file', args: { path: 'n.txt', content: 'a < b' } }]);
  });

  it('malformed JSON gets one repair (single quotes, trailing comma, unquoted key)', async () => {
    const parts = await run("<tool_call>{name: 'read_file', 'arguments': {'path': 'q.py',},}</tool_call>");
    expect(calls(parts)).toEqual([{ name: 'read_file', args: { path: 'q.py' } }]);
  });

  it('JSON beyond repair is a clear error naming the problem, with no half call emitted', async () => {
    const parts = await run('<tool_call>{"name": "read_file", "arguments": </tool_call>');
    expect(calls(parts)).toEqual([]);
    const e = error(parts);
    expect(e && e.type === 'error' && e.error.message).toMatch(/tool call could not be read/);
    expect(e && e.type === 'error' && e.error.status).toBe(502);
  });

  it('a call to a tool the client did not send is an error naming the tools that exist', async () => {
    const parts = await run('<tool_call>{"name": "rm_rf", "arguments": {}}</tool_call>');
    const e = error(parts);
    expect(e && e.type === 'error' && e.error.message).toMatch(/"rm_rf".*read_file, write_file/);
  });

  it('ordinary code fences are answer text: a package.json with a "name" is not a call', async () => {
    const answer = 'Here it is:\n```json\n{"name": "my-app", "version": "1.0.0"}\n```\nand some TS:\n```ts\nconst x = "<tool";\n```\nDone.';
    for (const size of [1, 5, 1000]) {
      const parts = await run(answer, size);
      expect(text(parts)).toBe(answer);
      expect(calls(parts)).toEqual([]);
      expect(finish(parts)).toEqual({ type: 'finish', reason: 'stop' });
    }
  });

  it('text that merely mentions <tool_call> without a call in it comes back as text', async () => {
    const x = new ToolCallExtractor(tools, 'auto');
    const shown = x.text('You write <tool_call> to call tools.');
    expect(shown).toBe('You write ');
    expect(x.end()).toEqual({ text: '<tool_call> to call tools.', calls: [] });
  });

  it('tool_choice required / specific are checked against what the model did', async () => {
    expect(error(await run('Just text.', 4, 'required'))).toBeDefined();
    expect(error(await run('<tool_call>{"name":"read_file","arguments":{}}</tool_call>', 4, { name: 'write_file' }))).toBeDefined();
    expect(calls(await run('<tool_call>{"name":"write_file","arguments":{}}</tool_call>', 4, { name: 'write_file' }))).toHaveLength(1);
  });
});

describe('emulateTools: the request side', () => {
  it('puts tools and choice into the system prompt and history calls/results into text', () => {
    const e = emulateTools({
      model: 'm',
      stream: false,
      system: 'Be brief.',
      tools,
      toolChoice: 'required',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'go' }] },
        { role: 'assistant', content: [{ type: 'tool-call', id: 'call_1', name: 'read_file', arguments: '{"path":"a"}' }] },
        { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'call_1', name: 'read_file', content: 'A', isError: true }] },
      ],
    })!;
    expect(e.request.tools).toBeUndefined();
    expect(e.request.system).toMatch(/^Be brief\.\n\n# Tools/);
    expect(e.request.system).toContain('You MUST call at least one tool');
    expect(e.request.messages[1]!.content).toEqual([{ type: 'text', text: '<tool_call>\n{"name":"read_file","arguments":{"path":"a"}}\n</tool_call>' }]);
    expect(e.request.messages[2]!.content).toEqual([{ type: 'text', text: '<tool_result name="read_file" id="call_1" error="true">\nA\n</tool_result>' }]);
  });

  it('nothing to do without tools or tool history', () => {
    expect(emulateTools({ model: 'm', stream: false, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] })).toBeUndefined();
  });
});
