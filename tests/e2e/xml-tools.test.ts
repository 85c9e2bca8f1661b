/**
 * A client that speaks the XML tool protocol (older Roo Code / Cline): its prompt is
 * detected, the CLI is told to answer in exactly that XML, and the XML comes back
 * untouched, as text, never turned into tool_calls.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { startStack, type TestStack } from '../helpers/server.js';
import { XML_INSTRUCTION } from '../../src/features/xml-tools/detect.js';

let stack: TestStack;
let client: OpenAI;

const ROO_LIKE = `You are Roo, a highly skilled software engineer.

====

TOOL USE

You have access to a set of tools that are executed upon the user's approval. You can use one tool per message, and will receive the result of that tool use in the user's response.

# Tool Use Formatting

Tool use is formatted using XML-style tags. The tool name is enclosed in opening and closing tags, and each parameter is similarly enclosed within its own set of tags. Here's the structure:

<tool_name>
<parameter1_name>value1</parameter1_name>
</tool_name>

# Tools

## read_file
Description: Request to read the contents of a file.
Parameters:
- path: (required) The path of the file to read
Usage:
<read_file>
<path>File path here</path>
</read_file>

## attempt_completion
Description: Present the result of the task.
Usage:
<attempt_completion>
<result>Your final result</result>
</attempt_completion>`;

const ANSWER = 'I need to see the file first.\n\n<read_file>\n<path>src/app.ts</path>\n</read_file>';

beforeAll(async () => {
  stack = await startStack({});
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'x', maxRetries: 0 });
});
afterAll(async () => stack?.close());

function lastSystem(): string {
  const body = [...stack.fake.requests].reverse().find((r) => r.path === '/v1/messages')!.body;
  return (body.system as { text: string }[]).map((b) => b.text).join('\n');
}

describe('XML tool protocol', () => {
  it('is detected from the system prompt; the XML answer streams back as text, untouched', async () => {
    stack.fake.setScript({ reply: ANSWER });
    let text = '';
    let toolDeltas = 0;
    let finish: string | null = null;
    const stream = await client.chat.completions.create({
      model: 'claude-sonnet-4-5',
      stream: true,
      messages: [
        { role: 'system', content: ROO_LIKE },
        { role: 'user', content: '<task>\nFix the bug in app.ts\n</task>' },
      ],
    });
    for await (const c of stream) {
      text += c.choices[0]?.delta.content ?? '';
      toolDeltas += c.choices[0]?.delta.tool_calls?.length ?? 0;
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe(ANSWER);
    expect(toolDeltas).toBe(0);
    expect(finish).toBe('stop');
    const system = lastSystem();
    expect(system).toContain('Tool use is formatted using XML-style tags');
    expect(system).toContain(XML_INSTRUCTION);
  });

  it('an ordinary chat about XML is not taken for it', async () => {
    stack.fake.setScript({ reply: 'Use lxml.' });
    await client.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'How do I parse this XML file in Python?\n```xml\n<config><read_file>x</read_file></config>\n```' }],
    });
    expect(lastSystem()).not.toContain(XML_INSTRUCTION);
  });
});
