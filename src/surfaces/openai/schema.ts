/** The OpenAI chat-completions request, as far as cligate reads it (zod, lenient on extras). */
import { z } from 'zod';
import { objectOf, optBoolean, optNumberIn, optPositiveInt, optString } from '../validate.js';

const textPart = z.object({ type: z.literal('text'), text: z.string() });
const imagePart = z.object({
  type: z.literal('image_url'),
  image_url: z.union([z.string(), z.object({ url: z.string(), detail: z.string().optional() })]),
});
const refusalPart = z.object({ type: z.literal('refusal'), refusal: z.string() });
const contentPart = z.discriminatedUnion('type', [textPart, imagePart, refusalPart]);
const content = z.union([z.string(), z.array(contentPart)]);

const toolCall = z.object({
  id: z.string(),
  type: z.literal('function').optional(),
  function: z.object({ name: z.string(), arguments: z.string().default('') }),
});

const message = z.discriminatedUnion('role', [
  z.object({ role: z.literal('system'), content, name: z.string().optional() }),
  z.object({ role: z.literal('developer'), content, name: z.string().optional() }),
  z.object({ role: z.literal('user'), content, name: z.string().optional() }),
  z.object({
    role: z.literal('assistant'),
    content: content.nullish(),
    name: z.string().optional(),
    tool_calls: z.array(toolCall).optional(),
    reasoning_content: z.string().nullish(),
    refusal: z.string().nullish(),
  }),
  z.object({ role: z.literal('tool'), content, tool_call_id: z.string() }),
  z.object({ role: z.literal('function'), content: z.string().nullish(), name: z.string() }),
]);

const tool = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string().min(1),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullish(),
  }),
});

const toolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) }),
]);

export const chatCompletionSchema = z.object({
  model: z.string().min(1, 'must be a non-empty string'),
  messages: z.array(message).min(1, 'must contain at least one message'),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  n: z.number().int().min(1).max(1, 'n > 1 is not supported: ask for one choice').nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  tools: z.array(tool).nullish(),
  tool_choice: toolChoice.nullish(),
  user: z.string().nullish(),
});

export type ChatCompletionBody = z.infer<typeof chatCompletionSchema>;
export type OpenAIMessage = z.infer<typeof message>;
export type OpenAIContent = z.infer<typeof content>;

const PLAIN_KEYS = new Set(['model', 'messages', 'stream', 'stream_options', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'user']);
const PLAIN_MESSAGE_KEYS = new Set(['role', 'content', 'name']);
const PLAIN_ROLES = new Set(['system', 'developer', 'user', 'assistant']);
const STREAM_OPTION_KEYS = new Set(['include_usage']);

/**
 * The common request checked by hand (validate.ts): text messages of the four plain roles, and
 * only the settings below, each valid as chatCompletionSchema has it. True: the body is what the
 * schema would return. False: ask the schema (it accepts the rest, or names what is wrong).
 */
export function isPlainChatCompletion(b: unknown): b is ChatCompletionBody {
  if (!objectOf(b, PLAIN_KEYS)) return false;
  if (typeof b.model !== 'string' || b.model.length === 0) return false;
  const messages = b.messages;
  if (!Array.isArray(messages) || messages.length === 0) return false;
  for (const m of messages) {
    if (!objectOf(m, PLAIN_MESSAGE_KEYS) || !PLAIN_ROLES.has(m.role as string) || typeof m.content !== 'string' || !optString(m.name)) return false;
  }
  if (!optBoolean(b.stream, true)) return false;
  if (!(b.stream_options === undefined || b.stream_options === null || (objectOf(b.stream_options, STREAM_OPTION_KEYS) && optBoolean(b.stream_options.include_usage)))) return false;
  return optPositiveInt(b.max_tokens, true) && optPositiveInt(b.max_completion_tokens, true) && optNumberIn(b.temperature, 0, 2, true) && optNumberIn(b.top_p, 0, 1, true) && optString(b.user, true);
}
