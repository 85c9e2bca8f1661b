/**
 * The OpenAI Responses request, as far as cligate reads it (zod). Lenient where the API is:
 * fields nobody knows yet pass; a known field with a wrong type is a 400 naming it.
 */
import { z } from 'zod';

const inputText = z.object({ type: z.literal('input_text'), text: z.string() });
const outputText = z.object({ type: z.literal('output_text'), text: z.string() });
const refusal = z.object({ type: z.literal('refusal'), refusal: z.string() });
const inputImage = z.object({
  type: z.literal('input_image'),
  image_url: z.string().nullish(),
  file_id: z.string().nullish(),
  detail: z.string().nullish(),
});
const inputFile = z.object({
  type: z.literal('input_file'),
  file_data: z.string().nullish(),
  file_url: z.string().nullish(),
  file_id: z.string().nullish(),
  filename: z.string().nullish(),
});
export const contentPart = z.discriminatedUnion('type', [inputText, outputText, refusal, inputImage, inputFile]);
const content = z.union([z.string(), z.array(contentPart)]);

const messageItem = z.object({
  type: z.literal('message').optional(),
  id: z.string().nullish(),
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content,
  status: z.string().nullish(),
});
const functionCall = z.object({
  type: z.literal('function_call'),
  id: z.string().nullish(),
  call_id: z.string(),
  name: z.string(),
  arguments: z.string(),
  namespace: z.string().nullish(),
  status: z.string().nullish(),
});
const outputContent = z.union([z.string(), z.array(contentPart)]);
const functionCallOutput = z.object({
  type: z.literal('function_call_output'),
  id: z.string().nullish(),
  call_id: z.string(),
  output: outputContent,
  status: z.string().nullish(),
});
const customToolCall = z.object({
  type: z.literal('custom_tool_call'),
  id: z.string().nullish(),
  call_id: z.string(),
  name: z.string(),
  input: z.string(),
});
const customToolCallOutput = z.object({
  type: z.literal('custom_tool_call_output'),
  id: z.string().nullish(),
  call_id: z.string(),
  output: outputContent,
});
const reasoningItem = z.object({
  type: z.literal('reasoning'),
  id: z.string().nullish(),
  summary: z.array(z.object({ type: z.string(), text: z.string() })).nullish(),
  content: z.array(z.object({ type: z.string(), text: z.string() })).nullish(),
  encrypted_content: z.string().nullish(),
});
/** the input items cligate reads, by type; other types (hosted tools' items, compaction) are accepted and not sent on */
export const ITEM_SCHEMAS = {
  message: messageItem,
  function_call: functionCall,
  function_call_output: functionCallOutput,
  custom_tool_call: customToolCall,
  custom_tool_call_output: customToolCallOutput,
  reasoning: reasoningItem,
} as const;
export type ItemType = keyof typeof ITEM_SCHEMAS;
export type Item = { [K in ItemType]: z.infer<(typeof ITEM_SCHEMAS)[K]> }[ItemType];

export const functionTool = z.object({
  type: z.literal('function'),
  name: z.string().min(1),
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
});
const customTool = z.object({
  type: z.literal('custom'),
  name: z.string().min(1),
  description: z.string().nullish(),
  format: z.object({ type: z.string(), syntax: z.string().nullish(), definition: z.string().nullish() }).passthrough().nullish(),
});
/** a group of function tools under one name (Codex's multi-agent tools) */
const namespaceTool = z.object({
  type: z.literal('namespace'),
  name: z.string().min(1),
  description: z.string().nullish(),
  tools: z.array(z.union([functionTool, customTool])),
});
/** tools cligate passes to the model, by type; any other type is a hosted tool the provider must run */
export const TOOL_SCHEMAS = { function: functionTool, custom: customTool, namespace: namespaceTool } as const;
export type FunctionTool = z.infer<typeof functionTool>;
export type CustomTool = z.infer<typeof customTool>;
export type NamespaceTool = z.infer<typeof namespaceTool>;
/** an item or a tool before it is read by its type */
const typed = z.object({ type: z.string().optional() }).passthrough();

const toolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.enum(['function', 'custom']), name: z.string() }),
  z.object({ type: z.literal('allowed_tools'), mode: z.enum(['auto', 'required']), tools: z.array(z.record(z.string(), z.unknown())) }),
  z.object({ type: z.string() }).passthrough(),
]);

const textFormat = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    name: z.string().nullish(),
    schema: z.record(z.string(), z.unknown()),
    strict: z.boolean().nullish(),
    description: z.string().nullish(),
  }),
]);

export const responsesSchema = z.object({
  model: z.string().min(1, 'must be a non-empty string'),
  input: z.union([z.string(), z.array(typed)]),
  instructions: z.string().nullish(),
  stream: z.boolean().nullish(),
  tools: z.array(typed.extend({ type: z.string() })).nullish(),
  tool_choice: toolChoice.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  max_output_tokens: z.number().int().positive().nullish(),
  max_tool_calls: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  reasoning: z.object({ effort: z.string().nullish(), summary: z.string().nullish(), generate_summary: z.string().nullish() }).nullish(),
  text: z.object({ format: textFormat.nullish(), verbosity: z.string().nullish() }).nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  user: z.string().nullish(),
  store: z.boolean().nullish(),
  include: z.array(z.string()).nullish(),
  previous_response_id: z.string().nullish(),
  prompt_cache_key: z.string().nullish(),
  background: z.boolean().nullish(),
  conversation: z.union([z.string(), z.object({ id: z.string() })]).nullish(),
  // accepted and ignored
  safety_identifier: z.string().nullish(),
  service_tier: z.string().nullish(),
  truncation: z.string().nullish(),
  prompt_cache_retention: z.string().nullish(),
  client_metadata: z.record(z.string(), z.unknown()).nullish(),
  stream_options: z.record(z.string(), z.unknown()).nullish(),
  top_logprobs: z.number().int().nullish(),
});

/** fields the Responses API defines that cligate accepts and does not act on (README) */
export const IGNORED_FIELDS = ['safety_identifier', 'service_tier', 'truncation', 'prompt_cache_retention', 'client_metadata', 'stream_options', 'top_logprobs', 'max_tool_calls', 'text.verbosity', 'user'] as const;

export type ResponsesBody = z.infer<typeof responsesSchema>;
export type ContentPartIn = z.infer<typeof contentPart>;
