/** OpenAI chat-completions body -> ChatRequest. */
import { isPrompt, type ChatMessage, type ChatRequest, type ContentPart, type ToolChoice } from '../../core/request.js';
import { BadRequest } from '../../core/errors.js';
import { jsonDepth, MAX_JSON_DEPTH } from '../../core/json-depth.js';
import { parseBody } from '../validate.js';
import { sessionKey } from '../session.js';
import { imageFromUrl, placeSystem } from '../shared.js';
import { chatCompletionSchema, isPlainChatCompletion, type OpenAIContent } from './schema.js';

function toParts(content: OpenAIContent | null | undefined, where: string): ContentPart[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : [];
  return content.map((part, i): ContentPart => {
    switch (part.type) {
      case 'text':
        return { type: 'text', text: part.text };
      case 'refusal':
        return { type: 'text', text: part.refusal };
      case 'image_url': {
        const url = typeof part.image_url === 'string' ? part.image_url : part.image_url.url;
        return imageFromUrl(url, `${where}[${i}].image_url.url`, `${where}[${i}]`);
      }
    }
  });
}

function textOf(content: OpenAIContent): string {
  return typeof content === 'string' ? content : content.map((p) => (p.type === 'text' ? p.text : '')).join('');
}

export function decodeChatCompletion(body: unknown, headers: Record<string, string | string[] | undefined>): ChatRequest {
  // the common request needs no schema pass (schema.ts); the rest, errors included, gets one
  const b = isPlainChatCompletion(body) ? body : parseBody(chatCompletionSchema, body);
  const system: string[] = [];
  const messages: ChatMessage[] = [];
  const toolNames = new Map<string, string>();

  b.messages.forEach((m, i) => {
    const where = `messages[${i}].content`;
    switch (m.role) {
      case 'system':
      case 'developer': {
        placeSystem(textOf(m.content), messages, system);
        break;
      }
      case 'user':
        messages.push({ role: 'user', content: toParts(m.content, where) });
        break;
      case 'assistant': {
        const parts: ContentPart[] = [];
        if (m.reasoning_content) parts.push({ type: 'reasoning', text: m.reasoning_content });
        parts.push(...toParts(m.content, where));
        for (const [k, c] of (m.tool_calls ?? []).entries()) {
          // the argument string is JSON that later steps parse and print again: same depth limit as a body
          if (jsonDepth(c.function.arguments) > MAX_JSON_DEPTH) throw new BadRequest(`${where}.tool_calls[${k}].function.arguments nests deeper than ${MAX_JSON_DEPTH} levels.`, { param: `${where}.tool_calls[${k}].function.arguments`, code: 'json_too_deep' });
          toolNames.set(c.id, c.function.name);
          parts.push({ type: 'tool-call', id: c.id, name: c.function.name, arguments: c.function.arguments });
        }
        messages.push({ role: 'assistant', content: parts });
        break;
      }
      case 'tool': {
        const name = toolNames.get(m.tool_call_id);
        messages.push({
          role: 'tool',
          content: [{ type: 'tool-result', toolCallId: m.tool_call_id, ...(name ? { name } : {}), content: textOf(m.content) }],
        });
        break;
      }
      case 'function':
        messages.push({
          role: 'tool',
          content: [{ type: 'tool-result', toolCallId: m.name, name: m.name, content: m.content ?? '' }],
        });
        break;
    }
  });

  if (!messages.some(isPrompt)) {
    throw new BadRequest('messages must contain at least one user message with content (system messages alone are not a prompt).', {
      param: 'messages',
    });
  }

  let toolChoice: ToolChoice | undefined;
  if (b.tool_choice) toolChoice = typeof b.tool_choice === 'string' ? b.tool_choice : { name: b.tool_choice.function.name };

  const req: ChatRequest = {
    model: b.model,
    messages,
    stream: b.stream === true,
    includeUsage: b.stream_options?.include_usage === true,
    sessionKey: sessionKey(headers, messages),
  };
  const sys = system.filter(Boolean).join('\n\n');
  if (sys) req.system = sys;
  const maxTokens = b.max_completion_tokens ?? b.max_tokens;
  if (maxTokens != null) req.maxTokens = maxTokens;
  if (b.temperature != null) req.temperature = b.temperature;
  if (b.top_p != null) req.topP = b.top_p;
  if (b.stop != null) req.stop = typeof b.stop === 'string' ? [b.stop] : b.stop;
  if (b.tools?.length)
    req.tools = b.tools.map((t) => ({
      name: t.function.name,
      ...(t.function.description ? { description: t.function.description } : {}),
      ...(t.function.parameters ? { parameters: t.function.parameters } : {}),
    }));
  if (toolChoice) req.toolChoice = toolChoice;
  return req;
}
