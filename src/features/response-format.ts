/**
 * Structured output for providers that cannot enforce it upstream (the CLIs, Kiro, Cloud
 * Code): the format the client asked for becomes an instruction in the system prompt.
 */
import type { ChatRequest } from '../core/request.js';

export function formatInstruction(format: NonNullable<ChatRequest['responseFormat']>): string {
  if (format.type === 'json_object') return 'Answer with one JSON object and nothing else: no prose, no code fence.';
  return [
    `Answer with one JSON value${format.name ? ` (${format.name})` : ''} that conforms to this JSON schema, and nothing else: no prose, no code fence.`,
    JSON.stringify(format.schema),
  ].join('\n');
}
