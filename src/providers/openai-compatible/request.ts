/** ChatRequest -> an OpenAI chat-completions body (streamed upstream as the client streams, usage included). */
import { systemAsUserText, type ChatMessage, type ChatRequest, type ContentPart } from '../../core/request.js';

type OpenAIMessage = Record<string, unknown>;

function userContent(parts: ContentPart[]): string | Record<string, unknown>[] {
  const images = parts.some((p) => p.type === 'image');
  // separate blocks stay apart (a <system-reminder> block must not run into the prompt after it)
  if (!images) return parts.filter((p) => p.type === 'text').map((p) => (p as { text: string }).text).join('\n');
  return parts.flatMap((p): Record<string, unknown>[] => {
    if (p.type === 'text') return [{ type: 'text', text: p.text }];
    if (p.type === 'image') return [{ type: 'image_url', image_url: { url: p.data ? `data:${p.mediaType ?? 'image/png'};base64,${p.data}` : p.url } }];
    return [];
  });
}

function toMessages(m: ChatMessage): OpenAIMessage[] {
  if (m.role === 'tool') {
    return m.content.flatMap((p) => (p.type === 'tool-result' ? [{ role: 'tool', tool_call_id: p.toolCallId, content: p.content }] : []));
  }
  if (m.role === 'user') {
    // tool results can ride in a user turn too (dialects that put them there)
    const results = m.content.flatMap((p) => (p.type === 'tool-result' ? [{ role: 'tool', tool_call_id: p.toolCallId, content: p.content }] : []));
    const rest = m.content.filter((p) => p.type !== 'tool-result');
    return [...results, ...(rest.length ? [{ role: 'user', content: userContent(rest) }] : [])];
  }
  const text = m.content.filter((p) => p.type === 'text').map((p) => (p as { text: string }).text).join('');
  const calls = m.content.flatMap((p) => (p.type === 'tool-call' ? [{ id: p.id, type: 'function', function: { name: p.name, arguments: p.arguments || '{}' } }] : []));
  return [{ role: 'assistant', content: text || (calls.length ? null : ''), ...(calls.length ? { tool_calls: calls } : {}) }];
}

export function chatCompletionsBody(req: ChatRequest, model: string): Record<string, unknown> {
  // system messages mid-conversation go as user notes: many local servers' chat templates refuse a system turn after the first
  const messages: OpenAIMessage[] = [...(req.system ? [{ role: 'system', content: req.system }] : []), ...systemAsUserText(req.messages).flatMap(toMessages)];
  // a client that does not stream gets one JSON answer from the upstream too: no SSE to parse
  const body: Record<string, unknown> = { model, messages, stream: req.stream, ...(req.stream ? { stream_options: { include_usage: true } } : {}) };
  if (req.tools?.length) body.tools = req.tools.map((t) => ({ type: 'function', function: { name: t.name, ...(t.description ? { description: t.description } : {}), parameters: t.parameters ?? { type: 'object', properties: {} } } }));
  if (req.toolChoice) body.tool_choice = typeof req.toolChoice === 'string' ? req.toolChoice : { type: 'function', function: { name: req.toolChoice.name } };
  if (req.maxTokens !== undefined) body.max_tokens = req.maxTokens;
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.topP !== undefined) body.top_p = req.topP;
  if (req.stop?.length) body.stop = req.stop;
  const f = req.responseFormat;
  if (f) body.response_format = f.type === 'json_object' ? f : { type: 'json_schema', json_schema: { name: f.name ?? 'response', schema: f.schema, ...(f.strict !== undefined ? { strict: f.strict } : {}) } };
  return body;
}
