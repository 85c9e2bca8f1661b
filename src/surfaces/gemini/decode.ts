/**
 * Gemini generateContent bodies -> ChatRequest.
 *
 * | Gemini                                   | ChatRequest                                   |
 * |------------------------------------------|-----------------------------------------------|
 * | systemInstruction                        | system                                        |
 * | role user: text / inlineData / fileData  | user text / image parts                       |
 * | role user|function: functionResponse     | a `tool` message with tool-result parts       |
 * | role model: text / thought / functionCall| assistant text / reasoning / tool-call        |
 * | tools[].functionDeclarations             | tools (parameters or parametersJsonSchema)    |
 * | toolConfig mode AUTO / ANY / NONE        | toolChoice auto / required (or {name}) / none |
 * | generationConfig maxOutputTokens, …      | maxTokens, temperature, topP, stop            |
 * | generationConfig.thinkingConfig          | thinking on/off with a budget                 |
 * | responseMimeType json / responseSchema   | responseFormat                                |
 *
 * Gemini calls may come without ids: each functionCall gets one, and a
 * functionResponse takes the oldest unanswered call of the same name.
 */
import type { ChatMessage, ChatRequest, ContentPart, ToolChoice } from '../../core/request.js';
import { BadRequest } from '../../core/errors.js';
import { parseBody } from '../validate.js';
import { sessionKey } from '../session.js';
import { userTurn } from '../shared.js';
import type { RequestInfo } from '../types.js';
import {
  backendProxySchema,
  countTokensSchema,
  generateContentSchema,
  type GeminiContent,
  type GeminiPart,
  type GeminiTool,
  type GeminiToolConfig,
  type GenerationConfig,
  type SystemInstruction,
} from './schema.js';

/** "models/gemini-2.5-pro" and "gemini-2.5-pro" name the same model */
export function modelFromPath(name: string): string {
  return name.replace(/^models\//, '');
}

class CallIds {
  private n = 0;
  private readonly open = new Map<string, string[]>();
  call(name: string, id?: string): string {
    const callId = id ?? `call_${++this.n}_${name}`;
    const list = this.open.get(name) ?? [];
    list.push(callId);
    this.open.set(name, list);
    return callId;
  }
  result(name: string, id?: string): string {
    const list = this.open.get(name) ?? [];
    const idx = id ? list.indexOf(id) : 0;
    if (idx >= 0 && list.length) return list.splice(idx, 1)[0]!;
    return id ?? `call_${++this.n}_${name}`;
  }
}

function partToCore(p: GeminiPart, where: string, ids: CallIds, role: 'user' | 'model'): ContentPart | undefined {
  if (p.functionCall) return { type: 'tool-call', id: ids.call(p.functionCall.name, p.functionCall.id), name: p.functionCall.name, arguments: JSON.stringify(p.functionCall.args ?? {}) };
  if (p.functionResponse) {
    const fr = p.functionResponse;
    return { type: 'tool-result', toolCallId: ids.result(fr.name, fr.id), name: fr.name, content: JSON.stringify(fr.response ?? {}) };
  }
  if (p.inlineData) {
    const { mimeType, data } = p.inlineData;
    if (mimeType.startsWith('image/')) return { type: 'image', data, mediaType: mimeType };
    if (mimeType.startsWith('text/')) return { type: 'text', text: Buffer.from(data, 'base64').toString('utf8') };
    throw new BadRequest(`${where}.inlineData: ${mimeType} is not supported; send images or text`, { param: where, code: 'unsupported_content' });
  }
  if (p.fileData) {
    if (!/^https?:\/\//i.test(p.fileData.fileUri)) throw new BadRequest(`${where}.fileData.fileUri must be an http(s) URL`, { param: where });
    return { type: 'image', url: p.fileData.fileUri, ...(p.fileData.mimeType ? { mediaType: p.fileData.mimeType } : {}) };
  }
  if (p.text !== undefined) {
    if (p.thought && role === 'model') return { type: 'reasoning', text: p.text, ...(p.thoughtSignature ? { signature: p.thoughtSignature } : {}) };
    if (p.thought) return undefined;
    return p.text ? { type: 'text', text: p.text } : undefined;
  }
  return undefined;
}

function toMessages(contents: GeminiContent[]): ChatMessage[] {
  const ids = new CallIds();
  const out: ChatMessage[] = [];
  contents.forEach((c, i) => {
    const role = c.role === 'model' ? 'model' : 'user';
    const parts = c.parts
      .map((p, j) => partToCore(p, `contents[${i}].parts[${j}]`, ids, role))
      .filter((p): p is ContentPart => p !== undefined);
    if (role === 'model') {
      out.push({ role: 'assistant', content: parts });
      return;
    }
    out.push(...userTurn(parts));
  });
  return out;
}

function systemText(s: SystemInstruction | undefined): string | undefined {
  if (s === undefined) return undefined;
  if (typeof s === 'string') return s || undefined;
  const parts = Array.isArray(s) ? s : s.parts;
  return parts.map((p) => p.text ?? '').join('\n') || undefined;
}

interface Pieces {
  model: string;
  contents: GeminiContent[];
  systemInstruction?: SystemInstruction | undefined;
  tools?: GeminiTool[] | undefined;
  toolConfig?: GeminiToolConfig | undefined;
  generation?: GenerationConfig | undefined;
}

function build(p: Pieces, info: RequestInfo, stream: boolean): ChatRequest {
  const messages = toMessages(p.contents);
  if (!messages.some((m) => m.role !== 'assistant' && m.content.length > 0)) {
    throw new BadRequest('contents must contain at least one user turn with content.', { param: 'contents' });
  }
  const req: ChatRequest = { model: p.model, messages, stream, includeUsage: true };
  const system = systemText(p.systemInstruction);
  if (system) req.system = system;
  const decls = (p.tools ?? []).flatMap((t) => t.functionDeclarations ?? []);
  if (decls.length) {
    req.tools = decls.map((d) => {
      const parameters = d.parametersJsonSchema ?? d.parameters;
      return { name: d.name, ...(d.description ? { description: d.description } : {}), ...(parameters ? { parameters } : {}) };
    });
  }
  const fcc = p.toolConfig?.functionCallingConfig;
  if (fcc?.mode) {
    let choice: ToolChoice = 'auto';
    if (fcc.mode === 'NONE') choice = 'none';
    else if (fcc.mode === 'ANY') {
      const only = fcc.allowedFunctionNames;
      choice = only?.length === 1 && only[0] ? { name: only[0] } : 'required';
    }
    req.toolChoice = choice;
  }
  const g = p.generation;
  if (g?.maxOutputTokens !== undefined) req.maxTokens = g.maxOutputTokens;
  if (g?.temperature !== undefined) req.temperature = g.temperature;
  if (g?.topP !== undefined) req.topP = g.topP;
  if (g?.stopSequences?.length) req.stop = g.stopSequences;
  const t = g?.thinkingConfig;
  if (t?.thinkingBudget !== undefined || t?.includeThoughts !== undefined) {
    // a budget of 0 turns thinking off; -1 is Gemini's "dynamic"
    req.thinking = t.thinkingBudget !== undefined ? t.thinkingBudget !== 0 : t.includeThoughts === true;
    if (t.thinkingBudget && t.thinkingBudget > 0) req.thinkingBudget = t.thinkingBudget;
  }
  const schema = g?.responseJsonSchema ?? g?.responseSchema;
  if (schema) req.responseFormat = { type: 'json_schema', schema };
  else if (g?.responseMimeType === 'application/json') req.responseFormat = { type: 'json_object' };
  const key = sessionKey(info.headers, messages);
  if (key) req.sessionKey = key;
  return req;
}

/** `POST /v1beta/models/{model}:generateContent` and `:streamGenerateContent` */
export function decodeGenerateContent(body: unknown, info: RequestInfo): ChatRequest {
  const b = parseBody(generateContentSchema, body);
  const target = info.params.model ?? '';
  return build(
    {
      model: modelFromPath(target),
      contents: b.contents,
      systemInstruction: b.systemInstruction,
      tools: b.tools,
      toolConfig: b.toolConfig,
      generation: b.generationConfig,
    },
    info,
    info.params.method === 'streamGenerateContent',
  );
}

function normaliseContents(c: string | GeminiContent | GeminiContent[]): GeminiContent[] {
  if (typeof c === 'string') return [{ role: 'user', parts: [{ text: c }] }];
  return Array.isArray(c) ? c : [c];
}

/** `POST /api/ai/generate` and `/api/ai/generate-stream` (the backend-proxy auth type) */
export function decodeBackendProxy(body: unknown, info: RequestInfo, stream: boolean): ChatRequest {
  const b = parseBody(backendProxySchema, body);
  const { systemInstruction, tools, toolConfig, ...generation } = b.config ?? {};
  return build(
    {
      model: modelFromPath(b.model),
      contents: normaliseContents(b.contents),
      systemInstruction: b.systemInstruction ?? systemInstruction,
      tools: b.tools ?? tools,
      toolConfig,
      generation,
    },
    info,
    stream,
  );
}

/** `:countTokens` accepts `contents` or a whole `generateContentRequest` */
export function decodeCountTokens(body: unknown, info: RequestInfo): ChatRequest {
  const b = parseBody(countTokensSchema, body);
  const g = b.generateContentRequest;
  const contents = g?.contents ?? b.contents;
  if (!contents?.length) throw new BadRequest('countTokens needs contents or generateContentRequest.contents.', { param: 'contents' });
  const req: ChatRequest = { model: modelFromPath(info.params.model ?? g?.model ?? ''), messages: toMessages(contents), stream: false };
  const system = systemText(g?.systemInstruction);
  if (system) req.system = system;
  const decls = (g?.tools ?? []).flatMap((t) => t.functionDeclarations ?? []);
  if (decls.length) req.tools = decls.map((d) => ({ name: d.name, ...(d.description ? { description: d.description } : {}) }));
  return req;
}

/** backend-proxy count: same body as generate */
export function decodeBackendProxyCount(body: unknown): ChatRequest {
  const b = parseBody(backendProxySchema, body);
  const req: ChatRequest = { model: modelFromPath(b.model), messages: toMessages(normaliseContents(b.contents)), stream: false };
  const system = systemText(b.systemInstruction ?? b.config?.systemInstruction);
  if (system) req.system = system;
  return req;
}
