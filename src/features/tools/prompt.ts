/**
 * How a CLI model is told about the client's tools, and how earlier tool calls and
 * results are shown to it. The call format here is the one parse.ts reads back.
 */
import type { ChatMessage, ContentPart, ToolChoice, ToolDefinition } from '../../core/request.js';

export const CALL_OPEN = '<tool_call>';
export const CALL_CLOSE = '</tool_call>';

/** one call, in exactly the form the model is asked to write */
export function formatCall(name: string, args: string): string {
  let parsed: unknown = args;
  try {
    parsed = JSON.parse(args || '{}');
  } catch {
    // keep the raw string: it is what the model wrote
  }
  return `${CALL_OPEN}\n${JSON.stringify({ name, arguments: parsed })}\n${CALL_CLOSE}`;
}

function choiceRule(choice: ToolChoice | undefined): string {
  if (choice === 'required') return 'You MUST call at least one tool in this answer.';
  if (typeof choice === 'object') return `You MUST call the tool "${choice.name}" in this answer, and no other tool.`;
  return 'Call a tool when you need one to proceed; when you can answer without one, answer in plain text with no tool_call block.';
}

export function toolInstructions(tools: ToolDefinition[], choice: ToolChoice | undefined): string {
  const listed = tools.map((t) => ({ name: t.name, description: t.description ?? '', parameters: t.parameters ?? { type: 'object', properties: {} } }));
  return [
    '# Tools',
    '',
    'You can use the tools below. You cannot run them yourself: the client runs each call you write and sends the result back in a later turn. Your own built-in tools (shell, files, search) are not for this; use only these.',
    '',
    '<tools>',
    ...listed.map((t) => JSON.stringify(t)),
    '</tools>',
    '',
    '## How to call a tool',
    'Write each call as a block on its own lines, exactly like this:',
    '',
    CALL_OPEN,
    '{"name": "<tool name>", "arguments": {<arguments as a JSON object that matches the tool\'s parameters>}}',
    CALL_CLOSE,
    '',
    'Rules:',
    '- The block content is one JSON object with "name" and "arguments"; valid JSON only (double quotes, escaped newlines in strings), no comments, no code fences.',
    '- You may write a short sentence before your calls. Write nothing after the last block: stop and wait for the results.',
    '- Several independent calls may follow one another, one block each.',
    '- Use only the tool names listed above, with every required argument.',
    `- ${choiceRule(choice)}`,
  ].join('\n');
}

function renderResult(part: Extract<ContentPart, { type: 'tool-result' }>): string {
  const attrs = `${part.name ? ` name="${part.name}"` : ''} id="${part.toolCallId}"${part.isError ? ' error="true"' : ''}`;
  return `<tool_result${attrs}>\n${part.content}\n</tool_result>`;
}

/**
 * Earlier calls and results become text in the same format the model is asked to
 * write, so it sees its own calls the way it should make new ones.
 */
export function callsAsText(messages: ChatMessage[]): ChatMessage[] {
  return messages.map((m) => {
    if (!m.content.some((p) => p.type === 'tool-call' || p.type === 'tool-result')) return m;
    const content: ContentPart[] = m.content.map((p) => {
      if (p.type === 'tool-call') return { type: 'text', text: formatCall(p.name, p.arguments) };
      if (p.type === 'tool-result') return { type: 'text', text: renderResult(p) };
      return p;
    });
    return { role: m.role, content };
  });
}
