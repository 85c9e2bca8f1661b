/**
 * Renders a ChatRequest's conversation into the single prompt a CLI takes on stdin.
 * A lone user message is passed as it is; a multi-turn history is rendered as a
 * labelled transcript so the CLI sees every turn in order, with tool calls and
 * results kept, and is asked to answer the last user turn.
 */
import type { ChatMessage, ChatRequest, ContentPart, ImagePart } from '../core/request.js';

/** how an image is named in the prompt; a CLI that reads images by path is given its path */
export type ImageText = (part: ImagePart) => string;

const imageLabel: ImageText = (part) => `[${part.label ?? 'image'}]`;

function renderPart(part: ContentPart, imageText: ImageText): string {
  switch (part.type) {
    case 'text':
      return part.text;
    case 'image':
      return imageText(part);
    case 'reasoning':
      return '';
    case 'tool-call':
      return `[tool call ${part.name} id=${part.id}] ${part.arguments}`;
    case 'tool-result':
      return `[tool result${part.name ? ` ${part.name}` : ''} id=${part.toolCallId}${part.isError ? ' error' : ''}]\n${part.content}`;
  }
}

function renderContent(msg: ChatMessage, imageText: ImageText): string {
  return msg.content
    .map((p) => renderPart(p, imageText))
    .filter((s) => s.length > 0)
    .join('\n');
}

const LABEL: Record<ChatMessage['role'], string> = { user: 'User', assistant: 'Assistant', tool: 'Tool', system: 'System' };

export function renderTranscript(req: ChatRequest, imageText: ImageText = imageLabel): string {
  const msgs = req.messages;
  const only = msgs[0];
  if (msgs.length === 1 && only && only.role === 'user') return renderContent(only, imageText);

  const turns = msgs.map((m) => `<turn role="${LABEL[m.role]}">\n${renderContent(m, imageText)}\n</turn>`);
  const last = msgs[msgs.length - 1];
  const ask =
    last?.role === 'assistant'
      ? 'Continue the last Assistant turn from exactly where it stops.'
      : 'Reply to the last turn as the Assistant. Give only the reply, without a role label.';
  return `Here is the conversation so far:\n\n${turns.join('\n\n')}\n\n${ask}`;
}
