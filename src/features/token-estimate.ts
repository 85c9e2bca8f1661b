/**
 * Token estimates for count-tokens endpoints and for usage a provider has not
 * reported yet (Anthropic's message_start must not say 0). A real BPE tokenizer
 * (cl100k_base, via js-tiktoken) over everything the model will read: system,
 * every message part, tool definitions, plus the per-message framing overhead.
 */
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import type { ChatRequest, ContentPart } from '../core/request.js';

let encoder: Tiktoken | undefined;
const enc = () => (encoder ??= new Tiktoken(cl100k));

/** per message: role and separators, as chat formats frame a turn */
const MESSAGE_OVERHEAD = 4;
/** an image the size vision models usually scale to (about 1.15 megapixels) */
const IMAGE_TOKENS = 1600;

export function countTextTokens(text: string): number {
  if (!text) return 0;
  return enc().encode(text, 'all').length;
}

function partText(p: ContentPart): string {
  switch (p.type) {
    case 'text':
    case 'reasoning':
      return p.text;
    case 'tool-call':
      return `${p.name} ${p.arguments}`;
    case 'tool-result':
      return p.content;
    case 'image':
      return '';
  }
}

export function estimateInputTokens(req: Pick<ChatRequest, 'system' | 'messages' | 'tools'>): number {
  let tokens = req.system ? countTextTokens(req.system) + MESSAGE_OVERHEAD : 0;
  for (const msg of req.messages) {
    tokens += MESSAGE_OVERHEAD;
    for (const part of msg.content) tokens += part.type === 'image' ? IMAGE_TOKENS : countTextTokens(partText(part));
  }
  if (req.tools?.length) tokens += countTextTokens(JSON.stringify(req.tools));
  return Math.max(1, tokens);
}

/**
 * Builds the tokenizer now (about 0.3 s of CPU, up to 3 s on a loaded machine) instead of in
 * the first request that needs an estimate, where it held back Anthropic's message_start.
 */
export function warmTokenizer(): void {
  countTextTokens('warm');
}
