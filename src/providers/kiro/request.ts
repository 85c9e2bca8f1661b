/**
 * ChatRequest -> generateAssistantResponse body. Kiro wants strictly alternating
 * history (user, assistant, user, …) ending before the current user message; tool
 * results ride in the user message that follows the tool uses; tools go with the
 * current message; the system prompt leads the first user message. With thinking on,
 * the current message asks for it with Kiro's thinking tags.
 */
import { randomUUID } from 'node:crypto';
import { systemAsUserText, type ChatMessage, type ChatRequest } from '../../core/request.js';
import type { AssistantResponseMessage, GenerateRequest, HistoryEntry, KiroImage, KiroToolResult, UserInputMessage } from './types.js';

export const THINKING_BUDGET = 16_000;

interface Turn {
  role: 'user' | 'assistant';
  text: string[];
  images: KiroImage[];
  results: KiroToolResult[];
  uses: NonNullable<AssistantResponseMessage['toolUses']>;
}

function toTurns(messages: ChatMessage[]): Turn[] {
  const turns: Turn[] = [];
  for (const m of messages) {
    const role = m.role === 'assistant' ? 'assistant' : 'user';
    let t = turns.at(-1);
    if (!t || t.role !== role) {
      t = { role, text: [], images: [], results: [], uses: [] };
      turns.push(t);
    }
    for (const p of m.content) {
      if (p.type === 'text' && p.text) t.text.push(p.text);
      else if (p.type === 'image' && p.data) t.images.push({ format: (p.mediaType ?? 'image/png').replace('image/', '').replace('jpg', 'jpeg'), source: { bytes: p.data } });
      else if (p.type === 'tool-result') t.results.push({ toolUseId: p.toolCallId, content: [{ text: p.content || '(empty)' }], status: p.isError ? 'error' : 'success' });
      else if (p.type === 'tool-call') {
        let input: Record<string, unknown> = {};
        try {
          input = JSON.parse(p.arguments || '{}') as Record<string, unknown>;
        } catch {
          input = { raw: p.arguments };
        }
        t.uses.push({ toolUseId: p.id, name: p.name, input });
      }
    }
  }
  return turns;
}

function userMessage(t: Turn, modelId: string): UserInputMessage {
  // Kiro rejects an empty content even when the turn only carries tool results
  const content = t.text.join('\n\n') || (t.results.length ? 'Tool results provided.' : 'Continue.');
  const msg: UserInputMessage = { content, modelId, origin: 'AI_EDITOR' };
  if (t.images.length) msg.images = t.images;
  if (t.results.length) msg.userInputMessageContext = { toolResults: t.results };
  return msg;
}

export function buildRequest(req: ChatRequest, opts: { modelId: string; profileArn?: string; thinking: boolean }): GenerateRequest {
  // no system turn mid-conversation here: a system message joins the user turn beside it
  const turns = toTurns(systemAsUserText(req.messages));
  // the conversation must start with the user and end with the user
  if (turns[0]?.role !== 'user') turns.unshift({ role: 'user', text: ['(start of conversation)'], images: [], results: [], uses: [] });
  if (turns.at(-1)?.role !== 'user') turns.push({ role: 'user', text: ['Continue.'], images: [], results: [], uses: [] });
  if (req.system) turns[0]!.text.unshift(req.system);

  const history: HistoryEntry[] = turns.slice(0, -1).map((t) =>
    t.role === 'user'
      ? { userInputMessage: userMessage(t, opts.modelId) }
      : { assistantResponseMessage: { content: t.text.join('\n\n') || (t.uses.length ? 'Using tools.' : '...'), ...(t.uses.length ? { toolUses: t.uses } : {}) } },
  );
  const current = userMessage(turns.at(-1)!, opts.modelId);
  if (opts.thinking) current.content = `<thinking_mode>enabled</thinking_mode>\n<max_thinking_length>${req.thinkingBudget ?? THINKING_BUDGET}</max_thinking_length>\n\n${current.content}`;
  if (req.tools?.length && req.toolChoice !== 'none') {
    current.userInputMessageContext = {
      ...current.userInputMessageContext,
      tools: req.tools.map((t) => ({
        toolSpecification: { name: t.name, description: t.description || t.name, inputSchema: { json: t.parameters ?? { type: 'object', properties: {} } } },
      })),
    };
  }
  return {
    conversationState: { chatTriggerType: 'MANUAL', conversationId: randomUUID(), currentMessage: { userInputMessage: current }, history },
    ...(opts.profileArn ? { profileArn: opts.profileArn } : {}),
  };
}
