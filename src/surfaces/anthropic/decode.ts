/**
 * Anthropic Messages body -> ChatRequest.
 *
 * | Anthropic                              | ChatRequest                                   |
 * |----------------------------------------|-----------------------------------------------|
 * | system (string or text blocks)         | system                                        |
 * | user text / image / document(text)     | user message parts                            |
 * | user tool_result blocks                | a `tool` message before the user's own parts  |
 * | assistant text / thinking / tool_use   | assistant text / reasoning / tool-call        |
 * | tools[].input_schema                   | tools[].parameters                            |
 * | tool_choice auto / any / none / tool   | auto / required / none / {name}               |
 * | max_tokens, stop_sequences, temp, top_p| maxTokens, stop, temperature, topP            |
 * | server tool blocks, redacted_thinking  | left out (they mean nothing to another model) |
 * | role "system" messages (mid-conversation) | system messages at their position (leading ones join `system`) |
 * | thinking enabled / adaptive / disabled | thinking on (with budget_tokens) / on / off   |
 * | output_config.format json_schema       | responseFormat                                |
 * | context_management, service_tier, …    | accepted, ignored (IGNORED_FIELDS)            |
 */
import { isPrompt, type ChatMessage, type ChatRequest, type ContentPart, type ToolChoice } from '../../core/request.js';
import { BadRequest } from '../../core/errors.js';
import { parseBody } from '../validate.js';
import { sessionKey } from '../session.js';
import { fieldPresent, placeSystem, userTurn } from '../shared.js';
import type { RequestInfo } from '../types.js';
import { countTokensSchema, IGNORED_FIELDS, isPlainMessages, messagesSchema, type AnthropicMessage, type ContentBlock, type CountTokensBody } from './schema.js';

function imagePart(source: { type: 'base64'; media_type: string; data: string } | { type: 'url'; url: string }, where: string): ContentPart {
  if (source.type === 'base64') return { type: 'image', data: source.data, mediaType: source.media_type };
  if (!/^https?:\/\//i.test(source.url)) throw new BadRequest(`${where}.source.url must be an http(s) URL`, { param: where });
  return { type: 'image', url: source.url };
}

function blockToPart(block: ContentBlock, where: string, toolNames: Map<string, string>): ContentPart | undefined {
  switch (block.type) {
    case 'text':
      return { type: 'text', text: block.text };
    case 'image':
      return imagePart(block.source, where);
    case 'document': {
      const src = block.source;
      if (src.type === 'text') return { type: 'text', text: block.title ? `${block.title}\n\n${src.data}` : src.data };
      throw new BadRequest(`${where}: only plain-text documents are supported (source.type "text")`, { param: where, code: 'unsupported_content' });
    }
    case 'thinking':
      return { type: 'reasoning', text: block.thinking, ...(block.signature ? { signature: block.signature } : {}) };
    case 'tool_use':
      toolNames.set(block.id, block.name);
      return { type: 'tool-call', id: block.id, name: block.name, arguments: JSON.stringify(block.input) };
    case 'tool_result': {
      const content =
        typeof block.content === 'string'
          ? block.content
          : (block.content ?? []).map((c) => (c.type === 'text' ? c.text : '[image]')).join('\n');
      const name = toolNames.get(block.tool_use_id);
      return {
        type: 'tool-result',
        toolCallId: block.tool_use_id,
        content,
        ...(name ? { name } : {}),
        ...(block.is_error ? { isError: true } : {}),
      };
    }
    default:
      return undefined;
  }
}

function toMessages(input: AnthropicMessage[], system: string[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  const toolNames = new Map<string, string>();
  input.forEach((m, i) => {
    const blocks: ContentBlock[] = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content;
    const parts = blocks
      .map((b, j) => blockToPart(b, `messages[${i}].content[${j}]`, toolNames))
      .filter((p): p is ContentPart => p !== undefined && !(p.type === 'text' && p.text === ''));
    if (m.role === 'system') {
      placeSystem(parts.map((p) => (p.type === 'text' ? p.text : '')).join('\n'), out, system);
      return;
    }
    if (m.role === 'assistant') {
      out.push({ role: 'assistant', content: parts });
      return;
    }
    out.push(...userTurn(parts));
  });
  return out;
}

function systemText(system: string | { text: string }[] | undefined): string | undefined {
  if (system === undefined) return undefined;
  const text = typeof system === 'string' ? system : system.map((b) => b.text).join('\n\n');
  return text || undefined;
}

function common(b: CountTokensBody) {
  const leading: string[] = [];
  const messages = toMessages(b.messages, leading);
  const req: ChatRequest = { model: b.model, messages, stream: false };
  const system = [systemText(b.system), ...leading].filter(Boolean).join('\n\n');
  if (system) req.system = system;
  if (b.thinking) {
    req.thinking = b.thinking.type !== 'disabled';
    if (req.thinking && b.thinking.budget_tokens) req.thinkingBudget = b.thinking.budget_tokens;
  }
  const format = b.output_config?.format;
  if (format?.type === 'json_schema' && format.schema) req.responseFormat = { type: 'json_schema', schema: format.schema, ...(format.name ? { name: format.name } : {}) };
  const ignored = IGNORED_FIELDS.filter((f) => fieldPresent(b, f));
  if (ignored.length) req.ignored = ignored;
  // Anthropic's own server tools (web_search_20250305, bash_…) have a type and no schema
  const tools = (b.tools ?? []).filter((t) => !t.type || t.type === 'custom');
  if (tools.length)
    req.tools = tools.map((t) => ({
      name: t.name,
      ...(t.description ? { description: t.description } : {}),
      ...(t.input_schema ? { parameters: t.input_schema } : {}),
    }));
  if (b.tool_choice) {
    const map: Record<string, ToolChoice> = { auto: 'auto', any: 'required', none: 'none' };
    if (b.tool_choice.type === 'tool') {
      if (!b.tool_choice.name) throw new BadRequest('tool_choice.name is required when tool_choice.type is "tool"', { param: 'tool_choice.name' });
      req.toolChoice = { name: b.tool_choice.name };
    } else req.toolChoice = map[b.tool_choice.type] ?? 'auto';
  }
  return req;
}

export function decodeMessages(body: unknown, info: RequestInfo): ChatRequest {
  // the common request needs no schema pass (schema.ts); the rest, errors included, gets one
  const b = isPlainMessages(body) ? body : parseBody(messagesSchema, body);
  const req = common(b);
  if (!req.messages.some(isPrompt)) {
    throw new BadRequest('messages must contain at least one user message with content.', { param: 'messages' });
  }
  req.stream = b.stream === true;
  req.includeUsage = true;
  req.maxTokens = b.max_tokens;
  if (b.temperature !== undefined) req.temperature = b.temperature;
  if (b.top_p !== undefined) req.topP = b.top_p;
  if (b.stop_sequences?.length) req.stop = b.stop_sequences;
  // Claude Code puts its session id into metadata.user_id ("…_session_<uuid>")
  const sessionHint = /session_([0-9a-f-]{8,})/i.exec(b.metadata?.user_id ?? '')?.[1];
  const key = sessionKey(info.headers, req.messages, sessionHint);
  if (key) req.sessionKey = key;
  return req;
}

export function decodeCountTokens(body: unknown): ChatRequest {
  return common(parseBody(countTokensSchema, body));
}
