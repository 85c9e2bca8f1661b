/**
 * A recording fake on 127.0.0.1 for capturing what REAL clients send (tests/fixtures/clients/).
 * It keeps every request (method, path, query, all headers, raw and parsed body) and answers in
 * the dialect of the path, streamed when asked:
 *   - Anthropic Messages      POST …/messages            (SSE message_start … message_stop, tool_use via input_json_delta)
 *   - OpenAI chat completions POST …/chat/completions    (SSE chunks, tool_calls, usage when asked, [DONE])
 *   - OpenAI Responses        POST …/responses           (SSE response.created … response.completed)
 *   - Gemini                  POST …/models/<m>:streamGenerateContent|generateContent|countTokens
 *   - HEAD / GET /            200; GET …/models          a model list in the dialect of the path
 *
 * The answer script, the same for every dialect:
 *   1. the latest turn carries a tool result      -> plain text `doneText` ("done")
 *   2. the latest user turn contains `marker` AND the request offers the scripted tool -> a call to that tool
 *   3. the request asks for JSON output with a schema (e.g. Gemini CLI's model router) -> a JSON value made from the schema
 *   4. anything else (first prompts, title/memory side calls) -> plain text `text`
 */
import type http from 'node:http';
import { startFakeServer } from './http.js';

export type Dialect = 'anthropic' | 'openai-chat' | 'openai-responses' | 'gemini' | 'other';
export type Answer = 'text' | 'json' | 'tool' | 'done' | 'other';

export interface RecorderScript {
  /** the text in a user turn that asks for a tool call (default "USE_TOOL") */
  marker?: string;
  /** the client's own tool to call when the marker is seen (name as the client declares it) */
  tool?: {
    name: string;
    input: Record<string, unknown>;
    /** Responses only: call it as a custom (freeform) tool with this raw input instead of a function call */
    custom?: string;
  };
  /** plain answer to everything else (default "ok") */
  text?: string;
  /** answer once a tool result came back (default "done") */
  doneText?: string;
}

export interface RecordedRequest {
  /** 1-based arrival order */
  seq: number;
  method: string;
  /** the URL path without its query */
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  raw: string;
  /** parsed JSON, the raw text when it is not JSON, undefined when empty */
  body: any;
  dialect: Dialect;
  answer: Answer;
}

export interface Recorder {
  url: string;
  port: number;
  requests: RecordedRequest[];
  setScript(s: RecorderScript): void;
  /** forget what was recorded so far */
  reset(): void;
  close(): Promise<void>;
}

export function dialectOf(path: string): Dialect {
  if (/\/messages(?:\/count_tokens)?$/.test(path)) return 'anthropic';
  if (/\/chat\/completions$/.test(path)) return 'openai-chat';
  if (/\/responses$/.test(path)) return 'openai-responses';
  if (/\/models\/[^/]+:\w+$/.test(path)) return 'gemini';
  return 'other';
}

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null;

/** the names of the tools a request offers, whatever its dialect (Responses namespaces included) */
export function toolNames(dialect: Dialect, body: any): string[] {
  const tools: any[] = Array.isArray(body?.tools) ? body.tools : [];
  if (dialect === 'gemini') return tools.flatMap((t) => (Array.isArray(t?.functionDeclarations) ? t.functionDeclarations.map((f: any) => f?.name) : []));
  if (dialect === 'openai-chat') return tools.map((t) => t?.function?.name ?? t?.name);
  if (dialect === 'openai-responses') {
    // Codex's code-mode models carry their tools in an `additional_tools` input item, namespaced
    const extra: any[] = Array.isArray(body?.input) ? body.input.filter((it: any) => it?.type === 'additional_tools').flatMap((it: any) => it.tools ?? []) : [];
    return [...tools, ...extra].flatMap((t) => [t?.name, ...(Array.isArray(t?.tools) ? t.tools.map((x: any) => x?.name) : [])]);
  }
  return tools.map((t) => t?.name);
}

/** Is the latest turn (after the last assistant/model turn) one that carries a tool result? */
export function hasToolResult(dialect: Dialect, body: any): boolean {
  if (dialect === 'openai-responses') {
    const input: any[] = Array.isArray(body?.input) ? body.input : [];
    let lastAssistant = -1;
    input.forEach((it, i) => {
      if (it?.role === 'assistant' || /_call$/.test(String(it?.type ?? ''))) lastAssistant = i;
    });
    return input.slice(lastAssistant + 1).some((it) => /_call_output$|_output$/.test(String(it?.type ?? '')));
  }
  if (dialect === 'gemini') {
    const contents: any[] = Array.isArray(body?.contents) ? body.contents : [];
    const i = contents.map((c) => c?.role).lastIndexOf('model');
    return contents.slice(i + 1).some((c) => Array.isArray(c?.parts) && c.parts.some((p: any) => isObj(p?.functionResponse)));
  }
  const msgs: any[] = Array.isArray(body?.messages) ? body.messages : [];
  const i = msgs.map((m) => m?.role).lastIndexOf('assistant');
  if (i < 0) return false;
  const after = msgs.slice(i + 1);
  if (dialect === 'openai-chat') return after.some((m) => m?.role === 'tool' || m?.role === 'function');
  return after.some((m) => Array.isArray(m?.content) && m.content.some((p: any) => p?.type === 'tool_result'));
}

/** the latest user turn of a request, as JSON text (enough to look for the marker in) */
export function latestUserTurn(dialect: Dialect, body: any): string {
  let turns: any[];
  if (dialect === 'openai-responses') {
    const input = body?.input;
    if (typeof input === 'string') return input;
    turns = Array.isArray(input) ? input.filter((it) => it?.role === 'user') : [];
  } else if (dialect === 'gemini') {
    turns = Array.isArray(body?.contents) ? body.contents.filter((c: any) => c?.role === 'user' || c?.role === undefined) : [];
  } else {
    turns = Array.isArray(body?.messages) ? body.messages.filter((m: any) => m?.role === 'user') : [];
  }
  return JSON.stringify(turns.at(-1) ?? '');
}

/** the JSON schema a request asks its answer to follow, when it asks for JSON (null: any JSON object) */
export function jsonSchemaOf(dialect: Dialect, body: any): unknown | undefined {
  if (dialect === 'gemini') {
    const g = body?.generationConfig;
    if (g?.responseMimeType !== 'application/json') return undefined;
    return g.responseJsonSchema ?? g.responseSchema ?? null;
  }
  if (dialect === 'openai-chat') {
    const f = body?.response_format;
    if (f?.type === 'json_schema') return f.json_schema?.schema ?? null;
    return f?.type === 'json_object' ? null : undefined;
  }
  if (dialect === 'openai-responses') {
    const f = body?.text?.format;
    if (f?.type === 'json_schema') return f.schema ?? null;
    return f?.type === 'json_object' ? null : undefined;
  }
  if (dialect === 'anthropic') {
    const f = body?.output_config?.format ?? body?.output_format;
    return f?.type === 'json_schema' ? (f.schema ?? null) : undefined;
  }
  return undefined;
}

/** a small value that satisfies a JSON schema (Gemini's upper-case types too) */
export function sampleOf(schema: any): unknown {
  if (!isObj(schema)) return {};
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  if ('const' in schema) return schema.const;
  const alt = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alt) && alt.length) return sampleOf(alt[0]);
  const type = String(Array.isArray(schema.type) ? schema.type[0] : (schema.type ?? (isObj(schema.properties) ? 'object' : 'string'))).toLowerCase();
  switch (type) {
    case 'object':
      return Object.fromEntries(Object.entries(isObj(schema.properties) ? schema.properties : {}).map(([k, v]) => [k, sampleOf(v)]));
    case 'array':
      return [];
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? schema.minimum : 1;
    case 'boolean':
      return false;
    case 'null':
      return null;
    default:
      return 'ok';
  }
}

export function decide(dialect: Dialect, body: any, script: RecorderScript): Answer {
  if (dialect === 'other') return 'other';
  if (hasToolResult(dialect, body)) return 'done';
  const marker = script.marker ?? 'USE_TOOL';
  if (script.tool && latestUserTurn(dialect, body).includes(marker) && toolNames(dialect, body).includes(script.tool.name)) return 'tool';
  if (jsonSchemaOf(dialect, body) !== undefined) return 'json';
  return 'text';
}

type Send = (res: http.ServerResponse, body: any, reply: Reply, n: number) => void;
type Reply = { kind: 'text'; text: string } | { kind: 'tool'; name: string; input: Record<string, unknown>; custom?: string };

function json(res: http.ServerResponse, status: number, obj: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(obj));
}

function sse(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
}

const words = (t: string) => t.match(/\S+\s*|\s+/g) ?? [''];

const anthropic: Send = (res, body, reply, n) => {
  const id = `msg_rec_${n}`;
  const model = body?.model ?? 'claude-sonnet-4-5';
  const usage = { input_tokens: 12, output_tokens: 3, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  const block =
    reply.kind === 'text'
      ? { type: 'text', text: reply.text }
      : { type: 'tool_use', id: `toolu_rec_${n}`, name: reply.name, input: reply.input };
  const stop = reply.kind === 'tool' ? 'tool_use' : 'end_turn';
  if (!body?.stream) {
    return json(res, 200, { id, type: 'message', role: 'assistant', model, content: [block], stop_reason: stop, stop_sequence: null, usage });
  }
  sse(res);
  const send = (event: string, data: object) => res.write(`event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`);
  send('message_start', { message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } });
  if (reply.kind === 'text') {
    send('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
    send('ping', {});
    for (const w of words(reply.text)) send('content_block_delta', { index: 0, delta: { type: 'text_delta', text: w } });
  } else {
    send('content_block_start', { index: 0, content_block: { type: 'tool_use', id: `toolu_rec_${n}`, name: reply.name, input: {} } });
    send('ping', {});
    const args = JSON.stringify(reply.input);
    for (const piece of args.match(/[\s\S]{1,8}/g) ?? []) send('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: piece } });
  }
  send('content_block_stop', { index: 0 });
  send('message_delta', { delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } });
  send('message_stop', {});
  res.end();
};

const openaiChat: Send = (res, body, reply, n) => {
  const id = `chatcmpl-rec${n}`;
  const created = Math.floor(Date.now() / 1000);
  const model = body?.model ?? 'fake';
  const usage = { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15, prompt_tokens_details: { cached_tokens: 0 } };
  const call = reply.kind === 'tool' ? { id: `call_rec_${n}`, type: 'function', function: { name: reply.name, arguments: JSON.stringify(reply.input) } } : undefined;
  const finish = call ? 'tool_calls' : 'stop';
  if (!body?.stream) {
    return json(res, 200, {
      id, object: 'chat.completion', created, model,
      choices: [{ index: 0, message: { role: 'assistant', content: reply.kind === 'text' ? reply.text : null, ...(call ? { tool_calls: [call] } : {}) }, finish_reason: finish }],
      usage,
    });
  }
  sse(res);
  const send = (obj: unknown) => res.write(`data: ${JSON.stringify(obj)}\n\n`);
  const chunk = (delta: object, finish_reason: string | null) => ({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason }] });
  send(chunk({ role: 'assistant', content: '' }, null));
  if (reply.kind === 'text') for (const w of words(reply.text)) send(chunk({ content: w }, null));
  else {
    send(chunk({ tool_calls: [{ index: 0, id: call!.id, type: 'function', function: { name: reply.name, arguments: '' } }] }, null));
    for (const piece of call!.function.arguments.match(/[\s\S]{1,8}/g) ?? []) send(chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] }, null));
  }
  send(chunk({}, finish));
  if (body?.stream_options?.include_usage) send({ id, object: 'chat.completion.chunk', created, model, choices: [], usage });
  res.write('data: [DONE]\n\n');
  res.end();
};

const openaiResponses: Send = (res, body, reply, n) => {
  const id = `resp_rec_${n}`;
  const usage = { input_tokens: 12, input_tokens_details: { cached_tokens: 0 }, output_tokens: 3, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 15 };
  const base = { id, object: 'response', created_at: Math.floor(Date.now() / 1000), model: body?.model ?? 'fake', output: [] as object[] };
  const item =
    reply.kind === 'text'
      ? { type: 'message', id: `msg_rec_${n}`, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: reply.text, annotations: [] }] }
      : reply.custom !== undefined
        ? { type: 'custom_tool_call', id: `ctc_rec_${n}`, call_id: `call_rec_${n}`, name: reply.name, input: reply.custom, status: 'completed' }
        : { type: 'function_call', id: `fc_rec_${n}`, call_id: `call_rec_${n}`, name: reply.name, arguments: JSON.stringify(reply.input), status: 'completed' };
  if (!body?.stream) return json(res, 200, { ...base, status: 'completed', output: [item], usage });
  sse(res);
  let seq = 0;
  const send = (type: string, data: object) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...data })}\n\n`);
  send('response.created', { response: { ...base, status: 'in_progress' } });
  send('response.in_progress', { response: { ...base, status: 'in_progress' } });
  if (item.type === 'message') {
    const text = reply.kind === 'text' ? reply.text : '';
    send('response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress', content: [] } });
    send('response.content_part.added', { item_id: item.id, output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
    for (const w of words(text)) send('response.output_text.delta', { item_id: item.id, output_index: 0, content_index: 0, delta: w });
    send('response.output_text.done', { item_id: item.id, output_index: 0, content_index: 0, text });
    send('response.content_part.done', { item_id: item.id, output_index: 0, content_index: 0, part: { type: 'output_text', text, annotations: [] } });
  } else if (item.type === 'custom_tool_call') {
    send('response.output_item.added', { output_index: 0, item: { ...item, input: '', status: 'in_progress' } });
    send('response.custom_tool_call_input.delta', { item_id: item.id, output_index: 0, delta: item.input });
    send('response.custom_tool_call_input.done', { item_id: item.id, output_index: 0, input: item.input });
  } else {
    send('response.output_item.added', { output_index: 0, item: { ...item, arguments: '', status: 'in_progress' } });
    send('response.function_call_arguments.delta', { item_id: item.id, output_index: 0, delta: item.arguments });
    send('response.function_call_arguments.done', { item_id: item.id, output_index: 0, arguments: item.arguments });
  }
  send('response.output_item.done', { output_index: 0, item });
  send('response.completed', { response: { ...base, status: 'completed', output: [item], usage } });
  res.end();
};

const gemini = (res: http.ServerResponse, body: any, reply: Reply, n: number, model: string, method: string, alt: string | null): void => {
  if (method === 'countTokens') return json(res, 200, { totalTokens: 12 });
  const usageMetadata = { promptTokenCount: 12, candidatesTokenCount: 3, totalTokenCount: 15 };
  const part = reply.kind === 'text' ? { text: reply.text } : { functionCall: { name: reply.name, args: reply.input } };
  const chunk = (parts: object[], last: boolean) => ({
    candidates: [{ content: { role: 'model', parts }, index: 0, ...(last ? { finishReason: 'STOP' } : {}) }],
    usageMetadata: last ? usageMetadata : { promptTokenCount: 12, totalTokenCount: 12 },
    modelVersion: model,
    responseId: `rec-${n}`,
  });
  if (method !== 'streamGenerateContent') return json(res, 200, chunk([part], true));
  const pieces = reply.kind === 'text' ? words(reply.text).map((text) => [{ text }]) : [[part]];
  const frames = pieces.map((parts, i) => chunk(parts, i === pieces.length - 1));
  if (alt !== 'sse') return json(res, 200, frames);
  sse(res);
  for (const f of frames) res.write(`data: ${JSON.stringify(f)}\r\n\r\n`);
  res.end();
};

export async function startRecorder(initial: RecorderScript = {}): Promise<Recorder> {
  let script = initial;
  const requests: RecordedRequest[] = [];
  const server = await startFakeServer(({ req, res, path, raw, body }) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    const dialect = method === 'POST' ? dialectOf(path) : 'other';
    const counting = /(?:\/count_tokens|:countTokens)$/.test(path);
    const answer = counting ? 'other' : decide(dialect, body, script);
    const seq = requests.length + 1;
    requests.push({ seq, method, path, query: Object.fromEntries(url.searchParams), headers: req.headers, raw, body, dialect, answer });

    if (dialect === 'other') {
      if (path === '/' || method === 'HEAD') return void res.writeHead(200, { 'content-type': 'text/plain' }).end(method === 'HEAD' ? undefined : 'ok');
      if (method === 'GET' && /\/models$/.test(path)) {
        if (/\/v1(?:beta|alpha)\//.test(path)) return json(res, 200, { models: [] });
        return json(res, 200, { object: 'list', data: [] });
      }
      return json(res, 404, { error: { message: `recorder: no route for ${method} ${path}`, type: 'not_found' } });
    }
    const s = script;
    const reply: Reply =
      answer === 'tool' && s.tool
        ? { kind: 'tool', name: s.tool.name, input: s.tool.input, ...(s.tool.custom !== undefined ? { custom: s.tool.custom } : {}) }
        : answer === 'json'
          ? { kind: 'text', text: JSON.stringify(sampleOf(jsonSchemaOf(dialect, body))) }
          : { kind: 'text', text: answer === 'done' ? (s.doneText ?? 'done') : (s.text ?? 'ok') };
    if (dialect === 'anthropic') {
      if (path.endsWith('/count_tokens')) return json(res, 200, { input_tokens: 12 });
      return anthropic(res, body, reply, seq);
    }
    if (dialect === 'openai-chat') return openaiChat(res, body, reply, seq);
    if (dialect === 'openai-responses') return openaiResponses(res, body, reply, seq);
    const m = /\/models\/([^/:]+):(\w+)$/.exec(path)!;
    return gemini(res, body, reply, seq, m[1]!, m[2]!, url.searchParams.get('alt'));
  });
  return {
    url: server.url,
    port: server.port,
    requests,
    close: server.close,
    reset() {
      requests.length = 0;
    },
    setScript(next) {
      script = next;
    },
  };
}
