/**
 * A fake OpenAI chat-completions API on 127.0.0.1 speaking the real wire format
 * (SSE chunks with a final usage chunk, or one JSON), for driving Qwen Code offline.
 */
import http from 'node:http';
import { startFakeServer, sleep } from './http.js';

export interface FakeToolCall {
  name: string;
  arguments: string;
}

export interface FakeOpenAIScript {
  /** default: "Echo: <last user text>" */
  reply?: string | ((userText: string, body: any) => string);
  status?: number;
  delayMs?: number;
  chunkDelayMs?: number;
  hang?: boolean;
  usage?: { prompt_tokens: number; completion_tokens: number; cached_tokens?: number };
  /** stream these tool calls (arguments in 4-character pieces) after the text; a function decides per request (undefined or [] = none) */
  toolCalls?: FakeToolCall[] | ((body: any) => FakeToolCall[] | undefined);
  /** stream this as reasoning_content before the text */
  reasoning?: string;
  /** awaited before each text piece after the first: a test can hold the stream until the client saw the last piece */
  gate?: () => Promise<void>;
  /** a stream breaks off (the socket destroyed) after this many text pieces */
  cutAfter?: number;
}

export interface FakeOpenAI {
  url: string;
  requests: { path: string; headers: http.IncomingHttpHeaders; body: any }[];
  setScript(s: FakeOpenAIScript): void;
  close(): Promise<void>;
}

const TYPE: Record<number, [string, string]> = {
  400: ['invalid_request_error', 'invalid_request'],
  401: ['invalid_request_error', 'invalid_api_key'],
  429: ['rate_limit_exceeded', 'rate_limit_exceeded'],
  500: ['server_error', 'server_error'],
};

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p: any) => (p?.type === 'text' ? p.text : '')).join('');
  return '';
}

export async function startFakeOpenAI(initial: FakeOpenAIScript = {}): Promise<FakeOpenAI> {
  let script = initial;
  const requests: FakeOpenAI['requests'] = [];
  const server = await startFakeServer(async ({ req, res, path, body }) => {
    requests.push({ path, headers: req.headers, body });
    const s = script;
    const json = (status: number, obj: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(obj));
    };
    if (req.method === 'POST' && path.endsWith('/responses')) return responses(res, body, s, requests.length);
    if (req.method !== 'POST' || !path.endsWith('/chat/completions')) {
      return json(404, { error: { message: `Unknown path ${path}`, type: 'invalid_request_error', code: 'not_found' } });
    }
    if (s.hang) return;
    if (s.delayMs) await sleep(s.delayMs);
    if (s.status && s.status >= 400) {
      const [type, code] = TYPE[s.status] ?? ['server_error', 'server_error'];
      return json(s.status, { error: { message: `fake openai says ${s.status}`, type, code } }, s.status === 429 ? { 'retry-after': '3' } : {});
    }
    const msgs: any[] = Array.isArray(body?.messages) ? body.messages : [];
    const userText = textOf([...msgs].reverse().find((m) => m.role === 'user')?.content);
    const reply = typeof s.reply === 'function' ? s.reply(userText, body) : (s.reply ?? `Echo: ${userText}`);
    const calls = (typeof s.toolCalls === 'function' ? s.toolCalls(body) : s.toolCalls) ?? [];
    const pieces = reply.match(/\S+\s*|\s+/g) ?? [''];
    const u = s.usage ?? { prompt_tokens: 17, completion_tokens: pieces.length };
    const usage = {
      prompt_tokens: u.prompt_tokens,
      completion_tokens: u.completion_tokens,
      total_tokens: u.prompt_tokens + u.completion_tokens,
      prompt_tokens_details: { cached_tokens: u.cached_tokens ?? 0 },
    };
    const id = `chatcmpl-fake${requests.length}`;
    const created = Math.floor(Date.now() / 1000);
    const model = body?.model ?? 'fake';
    if (!body?.stream) {
      const toolCalls = calls.map((t, index) => ({ id: `call_fake_${index}`, type: 'function', function: { name: t.name, arguments: t.arguments } }));
      return json(200, {
        id, object: 'chat.completion', created, model,
        choices: [{
          index: 0,
          message: { role: 'assistant', content: reply || (toolCalls.length ? null : ''), ...(s.reasoning ? { reasoning_content: s.reasoning } : {}), ...(toolCalls.length ? { tool_calls: toolCalls } : {}) },
          finish_reason: toolCalls.length ? 'tool_calls' : 'stop',
        }],
        usage,
      });
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const send = (obj: unknown) => res.write(`data: ${JSON.stringify(obj)}\n\n`);
    const chunk = (delta: object, finish: string | null) => ({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }] });
    send(chunk({ role: 'assistant', content: '' }, null));
    for (const r of s.reasoning?.match(/[\s\S]{1,5}/g) ?? []) send(chunk({ reasoning_content: r }, null));
    for (const [i, p] of pieces.entries()) {
      if (res.destroyed) return;
      if (i > 0 && s.gate) await s.gate();
      if (s.cutAfter !== undefined && i >= s.cutAfter) return void res.destroy();
      send(chunk({ content: p }, null));
      if (s.chunkDelayMs) await sleep(s.chunkDelayMs);
    }
    for (const [index, t] of calls.entries()) {
      send(chunk({ tool_calls: [{ index, id: `call_fake_${index}`, type: 'function', function: { name: t.name, arguments: '' } }] }, null));
      for (const a of t.arguments.match(/[\s\S]{1,4}/g) ?? []) send(chunk({ tool_calls: [{ index, function: { arguments: a } }] }, null));
    }
    send(chunk({}, calls.length ? 'tool_calls' : 'stop'));
    send({ id, object: 'chat.completion.chunk', created, model, choices: [], usage });
    res.write('data: [DONE]\n\n');
    res.end();
  });
  return {
    url: server.url,
    requests,
    close: server.close,
    setScript(next) {
      script = next;
    },
  };
}

/** The Responses API's streamed events (what Codex speaks): created, item added, text deltas, item done, completed with usage. */
async function responses(res: import('node:http').ServerResponse, body: any, s: FakeOpenAIScript, n: number): Promise<void> {
  if (s.hang) return;
  if (s.delayMs) await sleep(s.delayMs);
  if (s.status && s.status >= 400) {
    const [type, code] = TYPE[s.status] ?? ['server_error', 'server_error'];
    res.writeHead(s.status, { 'content-type': 'application/json' });
    return void res.end(JSON.stringify({ error: { message: `fake openai says ${s.status}`, type, code } }));
  }
  const input: any[] = Array.isArray(body?.input) ? body.input : [];
  const lastUser = [...input].reverse().find((i) => i.role === 'user');
  const userText = Array.isArray(lastUser?.content) ? lastUser.content.map((c: any) => c.text ?? '').join('') : String(lastUser?.content ?? '');
  const reply = typeof s.reply === 'function' ? s.reply(userText, body) : (s.reply ?? `Echo: ${userText}`);
  const pieces = reply.match(/\S+\s*|\s+/g) ?? [''];
  const u = s.usage ?? { prompt_tokens: 19, completion_tokens: pieces.length };
  const id = `resp_fake${n}`;
  const item = { type: 'message', id: `msg_fake${n}`, role: 'assistant' };
  const usage = {
    input_tokens: u.prompt_tokens,
    input_tokens_details: { cached_tokens: u.cached_tokens ?? 0 },
    output_tokens: u.completion_tokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: u.prompt_tokens + u.completion_tokens,
  };
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const send = (type: string, data: object) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  const response = { id, object: 'response', model: body?.model ?? 'fake', output: [] as object[] };
  send('response.created', { response: { ...response, status: 'in_progress' } });
  send('response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress', content: [] } });
  send('response.content_part.added', { item_id: item.id, output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
  for (const p of pieces) {
    if (res.destroyed) return;
    send('response.output_text.delta', { item_id: item.id, output_index: 0, content_index: 0, delta: p });
    if (s.chunkDelayMs) await sleep(s.chunkDelayMs);
  }
  const done = { ...item, status: 'completed', content: [{ type: 'output_text', text: reply, annotations: [] }] };
  send('response.output_text.done', { item_id: item.id, output_index: 0, content_index: 0, text: reply });
  send('response.output_item.done', { output_index: 0, item: done });
  send('response.completed', { response: { ...response, status: 'completed', output: [done], usage } });
  res.end();
}
