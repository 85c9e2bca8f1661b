/** The Anthropic Messages request, as far as cligate reads it (zod). */
import { z } from 'zod';
import { objectOf, optBoolean, optNumberIn, optString } from '../validate.js';

const cacheControl = z.object({ type: z.string() }).nullish();

const textBlock = z.object({ type: z.literal('text'), text: z.string(), cache_control: cacheControl });
const imageSource = z.discriminatedUnion('type', [
  z.object({ type: z.literal('base64'), media_type: z.string(), data: z.string() }),
  z.object({ type: z.literal('url'), url: z.string() }),
]);
const imageBlock = z.object({ type: z.literal('image'), source: imageSource, cache_control: cacheControl });
const documentBlock = z
  .object({
    type: z.literal('document'),
    source: z.discriminatedUnion('type', [
      z.object({ type: z.literal('text'), data: z.string(), media_type: z.string().optional() }),
      z.object({ type: z.literal('base64'), data: z.string(), media_type: z.string() }),
      z.object({ type: z.literal('url'), url: z.string() }),
      z.object({ type: z.literal('content'), content: z.unknown() }),
    ]),
    title: z.string().nullish(),
  })
  ;
const toolUseBlock = z
  .object({ type: z.literal('tool_use'), id: z.string(), name: z.string(), input: z.record(z.string(), z.unknown()) })
  ;
const toolResultBlock = z
  .object({
    type: z.literal('tool_result'),
    tool_use_id: z.string(),
    content: z.union([z.string(), z.array(z.union([textBlock, imageBlock]))]).optional(),
    is_error: z.boolean().optional(),
  })
  ;
const thinkingBlock = z.object({ type: z.literal('thinking'), thinking: z.string(), signature: z.string().optional() });
const redactedThinkingBlock = z.object({ type: z.literal('redacted_thinking'), data: z.string() });
/** blocks of Anthropic's own server tools: kept out of the prompt, never rejected (zod strips unknown keys, it does not refuse them) */
const serverBlock = <T extends string>(type: T) => z.object({ type: z.literal(type) });

export const contentBlock = z.discriminatedUnion('type', [
  textBlock,
  imageBlock,
  documentBlock,
  toolUseBlock,
  toolResultBlock,
  thinkingBlock,
  redactedThinkingBlock,
  serverBlock('server_tool_use'),
  serverBlock('web_search_tool_result'),
  serverBlock('web_fetch_tool_result'),
  serverBlock('search_result'),
]);

// system-role messages anywhere in the conversation (Claude Code's mid-conversation-system beta)
const message = z.object({
  role: z.enum(['user', 'assistant', 'system']),
  content: z.union([z.string(), z.array(contentBlock)]),
});

const tool = z
  .object({
    name: z.string().min(1),
    description: z.string().optional(),
    input_schema: z.record(z.string(), z.unknown()).optional(),
    type: z.string().optional(),
  })
  // a client tool needs its input schema (as Anthropic's API insists); server tools have a type instead
  .refine((t) => t.input_schema !== undefined || t.type !== undefined, { message: 'input_schema is required for a client tool', path: ['input_schema'] });

const toolChoice = z.object({
  type: z.enum(['auto', 'any', 'tool', 'none']),
  name: z.string().optional(),
  disable_parallel_tool_use: z.boolean().optional(),
});

const base = {
  model: z.string().min(1, 'must be a non-empty string'),
  messages: z.array(message).min(1, 'must contain at least one message'),
  system: z.union([z.string(), z.array(textBlock)]).optional(),
  tools: z.array(tool).optional(),
  tool_choice: toolChoice.optional(),
  // enabled (with budget_tokens), adaptive, disabled; a type added later is accepted as "on"
  thinking: z.object({ type: z.string(), budget_tokens: z.number().int().positive().optional() }).nullish(),
  // output_config.format (structured output) is honoured; effort and the rest are accepted
  output_config: z
    .object({
      effort: z.string().nullish(),
      format: z
        .object({ type: z.string(), schema: z.record(z.string(), z.unknown()).optional(), name: z.string().optional() })
        .nullish(),
    })
    .nullish(),
  // accepted and ignored (no provider behind cligate manages the upstream's context or tiers)
  context_management: z.record(z.string(), z.unknown()).nullish(),
  service_tier: z.string().nullish(),
  container: z.union([z.string(), z.record(z.string(), z.unknown())]).nullish(),
  mcp_servers: z.array(z.record(z.string(), z.unknown())).nullish(),
};

/** fields Anthropic defines that cligate accepts and does not act on (README: "accepted, ignored") */
export const IGNORED_FIELDS = ['context_management', 'service_tier', 'container', 'mcp_servers', 'top_k', 'output_config.effort'] as const;

export const messagesSchema = z.object({
  ...base,
  max_tokens: z.number().int().positive(),
  stream: z.boolean().optional(),
  stop_sequences: z.array(z.string()).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(0).nullish(),
  metadata: z.object({ user_id: z.string().nullish() }).nullish(),
});

export const countTokensSchema = z.object(base);

export type MessagesBody = z.infer<typeof messagesSchema>;
export type CountTokensBody = z.infer<typeof countTokensSchema>;
export type AnthropicMessage = z.infer<typeof message>;
export type ContentBlock = z.infer<typeof contentBlock>;

const PLAIN_KEYS = new Set(['model', 'messages', 'max_tokens', 'stream', 'system', 'temperature', 'top_p']);
const PLAIN_MESSAGE_KEYS = new Set(['role', 'content']);
const PLAIN_ROLES = new Set(['user', 'assistant', 'system']);

/**
 * The common request checked by hand (validate.ts): text messages (string content), a string
 * system, max_tokens and the settings below, each valid as messagesSchema has it. True: the body
 * is what the schema would return. False: ask the schema (it accepts the rest, or names what is wrong).
 */
export function isPlainMessages(b: unknown): b is MessagesBody {
  if (!objectOf(b, PLAIN_KEYS)) return false;
  if (typeof b.model !== 'string' || b.model.length === 0) return false;
  if (!(Number.isSafeInteger(b.max_tokens) && (b.max_tokens as number) > 0)) return false;
  const messages = b.messages;
  if (!Array.isArray(messages) || messages.length === 0) return false;
  for (const m of messages) {
    if (!objectOf(m, PLAIN_MESSAGE_KEYS) || !PLAIN_ROLES.has(m.role as string) || typeof m.content !== 'string') return false;
  }
  return optBoolean(b.stream) && optString(b.system) && optNumberIn(b.temperature, 0, 1) && optNumberIn(b.top_p, 0, 1);
}
