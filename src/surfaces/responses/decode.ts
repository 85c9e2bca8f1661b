/**
 * OpenAI Responses body -> ChatRequest (plus what the encoder needs to answer in kind).
 *
 * | Responses                                   | ChatRequest                                          |
 * |---------------------------------------------|------------------------------------------------------|
 * | instructions, leading system/developer msgs | system                                               |
 * | later system/developer messages             | system messages at their position                    |
 * | input string / user message parts           | user message (input_text, input_image, text files)   |
 * | assistant message, reasoning item           | assistant text / reasoning (encrypted_content = sig) |
 * | function_call / custom_tool_call            | assistant tool-call (custom: arguments {"input"})    |
 * | function_call_output / custom_…_output      | tool message with a tool-result                      |
 * | tools: function, custom, namespace members  | tools (custom: one string argument "input")          |
 * | additional_tools input items (Codex)        | tools, like `tools`                                  |
 * | tools: any other type (web_search, …)       | hostedTools (the provider must run them, else 400)   |
 * | tools: tool_search                          | accepted, ignored (deferred tools stay unloaded)     |
 * | tool_choice, max_output_tokens, temp, top_p | toolChoice, maxTokens, temperature, topP             |
 * | reasoning.effort                            | thinking on/off with a budget                        |
 * | text.format json_schema / json_object       | responseFormat                                       |
 * | previous_response_id                        | the stored conversation first (404 when unknown)     |
 */
import type { ChatMessage, ChatRequest, ContentPart, ToolChoice, ToolDefinition } from '../../core/request.js';
import { isPrompt } from '../../core/request.js';
import { BadRequest, NotFound } from '../../core/errors.js';
import { jsonDepth, MAX_JSON_DEPTH } from '../../core/json-depth.js';
import { parseAt, parseBody } from '../validate.js';
import { sessionKey } from '../session.js';
import { DATA_URL, fieldPresent, imageFromUrl, placeSystem } from '../shared.js';
import type { RequestInfo } from '../types.js';
import type { ResponseStore } from './store.js';
import {
  IGNORED_FIELDS,
  ITEM_SCHEMAS,
  responsesSchema,
  TOOL_SCHEMAS,
  type ContentPartIn,
  type CustomTool,
  type FunctionTool,
  type Item,
  type ItemType,
  type ResponsesBody,
} from './schema.js';

/** what the encoder needs of the request beyond ChatRequest */
export interface ResponsesContext {
  body: ResponsesBody;
  /** the conversation before this answer (stored with it) */
  messages: ChatMessage[];
  /** tool name -> its namespace, for tools that came in a namespace */
  namespaces: Map<string, string>;
  /** names of freeform (custom) tools: their calls go out as custom_tool_call */
  custom: Set<string>;
  /** reasoning summaries were asked for */
  summaries: boolean;
  /** reasoning signatures go out as encrypted_content */
  encrypted: boolean;
}

/** reasoning.effort -> a thinking budget for providers that take one */
const EFFORT_BUDGET: Record<string, number> = { low: 4_096, medium: 16_000, high: 32_000, xhigh: 48_000 };
/** file types whose bytes are text a model can read in the prompt */
const TEXT_FILE = /^(text\/|application\/(json|xml|x-yaml|yaml|javascript|typescript|x-sh|toml|csv))/;

function imagePart(url: string | null | undefined, where: string): ContentPart {
  if (!url) throw new BadRequest(`${where}: input_image needs image_url (file_id needs the Files API, which cligate does not have)`, { param: where, code: 'unsupported_content' });
  return imageFromUrl(url, `${where}.image_url`, where);
}

function filePart(p: Extract<ContentPartIn, { type: 'input_file' }>, where: string): ContentPart {
  const m = p.file_data ? DATA_URL.exec(p.file_data) : null;
  const mediaType = m?.[1] ?? '';
  if (m && m[2] && mediaType.startsWith('image/')) return { type: 'image', data: m[3] ?? '', mediaType };
  if (m && TEXT_FILE.test(mediaType)) {
    const text = m[2] ? Buffer.from(m[3] ?? '', 'base64').toString('utf8') : decodeURIComponent(m[3] ?? '');
    return { type: 'text', text: p.filename ? `<file name="${p.filename}">\n${text}\n</file>` : text };
  }
  throw new BadRequest(
    `${where}: input_file is read when it is a text file or an image sent as file_data (a base64 data URL); ${mediaType ? `'${mediaType}'` : 'file_id and file_url'} cannot be passed to the providers behind cligate.`,
    { param: where, code: 'unsupported_content' },
  );
}

function parts(content: string | ContentPartIn[], where: string): ContentPart[] {
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : [];
  return content.flatMap((p, i): ContentPart[] => {
    const at = `${where}[${i}]`;
    switch (p.type) {
      case 'input_text':
      case 'output_text':
        return p.text ? [{ type: 'text', text: p.text }] : [];
      case 'refusal':
        return [{ type: 'text', text: p.refusal }];
      case 'input_image':
        return [imagePart(p.image_url, at)];
      case 'input_file':
        return [filePart(p, at)];
    }
  });
}

function outputText(output: string | ContentPartIn[]): string {
  if (typeof output === 'string') return output;
  return output.map((p) => ('text' in p ? p.text : p.type === 'input_image' ? '[image]' : '')).join('\n');
}

function checkArguments(args: string, where: string): void {
  // the argument string is JSON that later steps parse and print again: same depth limit as a body
  if (jsonDepth(args) > MAX_JSON_DEPTH) throw new BadRequest(`${where} nests deeper than ${MAX_JSON_DEPTH} levels.`, { param: where, code: 'json_too_deep' });
}

/** input items -> messages; consecutive assistant items (reasoning, text, calls) make one turn */
function toMessages(input: ResponsesBody['input'], system: string[], start: ChatMessage[]): ChatMessage[] {
  const out: ChatMessage[] = [...start];
  const names = new Map<string, string>();
  for (const m of start) for (const p of m.content) if (p.type === 'tool-call') names.set(p.id, p.name);
  const push = (role: ChatMessage['role'], part: ContentPart) => {
    const last = out.at(-1);
    if (last && last.role === role && role !== 'user' && role !== 'system') last.content.push(part);
    else out.push({ role, content: [part] });
  };
  if (typeof input === 'string') {
    if (input) out.push({ role: 'user', content: [{ type: 'text', text: input }] });
    return out;
  }
  input.forEach((raw, i) => {
    const where = `input[${i}]`;
    const type = (raw.type ?? ('role' in raw ? 'message' : undefined)) as ItemType | undefined;
    if (!type || !Object.hasOwn(ITEM_SCHEMAS, type)) {
      if (!type) throw new BadRequest(`${where}: an input item needs a type (or a role for a message)`, { param: `${where}.type` });
      return; // hosted tools' items, item references, compaction: nothing another model can use
    }
    const item = parseAt(ITEM_SCHEMAS[type], raw, ['input', i]) as Item;
    switch (item.type ?? 'message') {
      case 'message': {
        const m = item as Extract<Item, { role: string }>;
        const content = parts(m.content, `${where}.content`);
        if (m.role === 'system' || m.role === 'developer') {
          placeSystem(content.map((p) => (p.type === 'text' ? p.text : '')).join('\n'), out, system);
        } else if (m.role === 'assistant') content.forEach((p) => push('assistant', p));
        else if (content.length) out.push({ role: 'user', content });
        return;
      }
      case 'reasoning': {
        const r = item as Extract<Item, { type: 'reasoning' }>;
        const text = [...(r.summary ?? []), ...(r.content ?? [])].map((s) => s.text).join('\n');
        if (text || r.encrypted_content) push('assistant', { type: 'reasoning', text, ...(r.encrypted_content ? { signature: r.encrypted_content } : {}) });
        return;
      }
      case 'function_call': {
        const c = item as Extract<Item, { type: 'function_call' }>;
        checkArguments(c.arguments, `${where}.arguments`);
        names.set(c.call_id, c.name);
        push('assistant', { type: 'tool-call', id: c.call_id, name: c.name, arguments: c.arguments });
        return;
      }
      case 'custom_tool_call': {
        const c = item as Extract<Item, { type: 'custom_tool_call' }>;
        names.set(c.call_id, c.name);
        push('assistant', { type: 'tool-call', id: c.call_id, name: c.name, arguments: JSON.stringify({ input: c.input }) });
        return;
      }
      case 'function_call_output':
      case 'custom_tool_call_output': {
        const o = item as Extract<Item, { type: 'function_call_output' | 'custom_tool_call_output' }>;
        const name = names.get(o.call_id);
        push('tool', { type: 'tool-result', toolCallId: o.call_id, content: outputText(o.output), ...(name ? { name } : {}) });
        return;
      }
    }
  });
  return out;
}

/** a freeform tool takes one string; the model fills it as the argument "input" */
function customAsFunction(t: CustomTool): ToolDefinition {
  const grammar = t.format?.definition ? `\n\nThe input must follow this ${t.format.syntax ?? ''} grammar:\n${t.format.definition}` : '';
  return {
    name: t.name,
    description: `${t.description ?? ''}${grammar}`.trim() || t.name,
    parameters: { type: 'object', properties: { input: { type: 'string', description: 'the raw input of the tool' } }, required: ['input'] },
  };
}

function functionDef(t: FunctionTool): ToolDefinition {
  return { name: t.name, ...(t.description ? { description: t.description } : {}), ...(t.parameters ? { parameters: t.parameters } : {}) };
}

/** every declared tool with where it was declared: `tools`, and `additional_tools` input items (Codex's code mode) */
function declaredTools(body: ResponsesBody): { raw: { type: string }; at: PropertyKey[] }[] {
  const out = (body.tools ?? []).map((raw, i) => ({ raw, at: ['tools', i] as PropertyKey[] }));
  if (typeof body.input === 'string') return out;
  body.input.forEach((item, i) => {
    if (item.type !== 'additional_tools') return;
    const list = (item as { tools?: unknown }).tools;
    if (!Array.isArray(list)) throw new BadRequest(`input[${i}].tools: expected array`, { param: `input[${i}].tools` });
    list.forEach((raw: unknown, j) => {
      const at = ['input', i, 'tools', j];
      if (!raw || typeof raw !== 'object' || typeof (raw as { type?: unknown }).type !== 'string') throw new BadRequest(`input[${i}].tools[${j}].type: expected string`, { param: `input[${i}].tools[${j}].type` });
      out.push({ raw: raw as { type: string }, at });
    });
  });
  return out;
}

/** hosted tools that only help the model find tools: without them it uses the tools it was given */
const OPTIONAL_HOSTED = new Set(['tool_search']);

function readTools(body: ResponsesBody, ctx: ResponsesContext): { tools: ToolDefinition[]; hosted: string[] } {
  const tools: ToolDefinition[] = [];
  const hosted: string[] = [];
  for (const { raw, at } of declaredTools(body)) {
    if (!Object.hasOwn(TOOL_SCHEMAS, raw.type)) {
      // web_search_preview and dated variants are the same hosted tool
      if (!OPTIONAL_HOSTED.has(raw.type)) hosted.push(raw.type.startsWith('web_search') ? 'web_search' : raw.type);
      continue;
    }
    const t = parseAt(TOOL_SCHEMAS[raw.type as keyof typeof TOOL_SCHEMAS], raw, at);
    const add = (member: FunctionTool | CustomTool, namespace?: string) => {
      if (member.type === 'custom') ctx.custom.add(member.name);
      if (namespace) ctx.namespaces.set(member.name, namespace);
      tools.push(member.type === 'custom' ? customAsFunction(member) : functionDef(member));
    };
    if (t.type === 'namespace') t.tools.forEach((m) => add(m, t.name));
    else add(t);
  }
  return { tools, hosted: [...new Set(hosted)] };
}

function readToolChoice(c: ResponsesBody['tool_choice']): ToolChoice | undefined {
  if (!c) return undefined;
  if (typeof c === 'string') return c;
  if ((c.type === 'function' || c.type === 'custom') && typeof c.name === 'string') return { name: c.name };
  if (c.type === 'allowed_tools') return c.mode === 'required' ? 'required' : 'auto';
  return 'auto'; // a hosted tool named: the provider runs it if it can
}

export async function decodeResponses(body: unknown, info: RequestInfo, store: ResponseStore, contexts: WeakMap<ChatRequest, ResponsesContext>): Promise<ChatRequest> {
  const b = parseBody(responsesSchema, body);
  if (b.background) throw new BadRequest('background: true is not supported: send the request without it and read the answer as it streams.', { param: 'background', code: 'unsupported_parameter' });
  if (b.conversation) throw new BadRequest('conversation objects are not supported: continue with previous_response_id, or send the whole input.', { param: 'conversation', code: 'unsupported_parameter' });

  let start: ChatMessage[] = [];
  if (b.previous_response_id) {
    const prev = await store.get(b.previous_response_id);
    if (!prev)
      throw new NotFound(`Previous response with id '${b.previous_response_id}' not found: it was never stored (store: false), was deleted, or expired.`, {
        param: 'previous_response_id',
        code: 'previous_response_not_found',
      });
    start = prev.messages;
  }
  const system: string[] = b.instructions ? [b.instructions] : [];
  const messages = toMessages(b.input, system, start);
  if (!messages.some(isPrompt)) throw new BadRequest('input must contain at least one user message or tool output with content.', { param: 'input' });

  const ctx: ResponsesContext = {
    body: b,
    messages,
    namespaces: new Map(),
    custom: new Set(),
    summaries: !!b.reasoning?.summary && b.reasoning.summary !== 'none',
    encrypted: (b.include ?? []).includes('reasoning.encrypted_content'),
  };
  const { tools, hosted } = readTools(b, ctx);
  const req: ChatRequest = {
    model: b.model,
    messages,
    stream: b.stream === true,
    includeUsage: true,
  };
  const key = sessionKey(info.headers, messages, b.prompt_cache_key ?? undefined);
  if (key) req.sessionKey = key;
  const sys = system.filter(Boolean).join('\n\n');
  if (sys) req.system = sys;
  if (tools.length) req.tools = tools;
  if (hosted.length) req.hostedTools = hosted;
  const choice = readToolChoice(b.tool_choice);
  if (choice) req.toolChoice = choice;
  if (b.max_output_tokens != null) req.maxTokens = b.max_output_tokens;
  if (b.temperature != null) req.temperature = b.temperature;
  if (b.top_p != null) req.topP = b.top_p;
  const effort = b.reasoning?.effort;
  if (effort) {
    req.thinking = effort !== 'none' && effort !== 'minimal';
    const budget = EFFORT_BUDGET[effort];
    if (req.thinking && budget) req.thinkingBudget = budget;
  }
  const format = b.text?.format;
  if (format?.type === 'json_object') req.responseFormat = { type: 'json_object' };
  else if (format?.type === 'json_schema')
    req.responseFormat = { type: 'json_schema', schema: format.schema, ...(format.name ? { name: format.name } : {}), ...(format.strict != null ? { strict: format.strict } : {}) };
  const ignored = IGNORED_FIELDS.filter((f) => fieldPresent(b, f));
  if (ignored.length) req.ignored = ignored;
  contexts.set(req, ctx);
  return req;
}
