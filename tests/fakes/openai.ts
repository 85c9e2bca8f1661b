/**
 * A fake OpenAI chat-completions API on 127.0.0.1 speaking the real wire format
 * (SSE chunks with a final usage chunk, or one JSON), for driving Qwen Code offline.
 */
import http from 'node:http';
import { startFakeServer, sleep } from './http.js';

export interface FakeOpenAIScript {
  /** default: "Echo: <last user text>" */
  reply?: string | ((userText: string, body: any) => string);
  status?: number;
  delayMs?: number;
  chunkDelayMs?: number;
  hang?: boolean;
  usage?: { prompt_tokens: number; completion_tokens: number; cached_tokens?: number };
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
      return json(200, {
        id, object: 'chat.completion', created, model,
        choices: [{ index: 0, message: { role: 'assistant', content: reply }, finish_reason: 'stop' }],
        usage,
      });
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const send = (obj: unknown) => res.write(`data: ${JSON.stringify(obj)}\n\n`);
    const chunk = (delta: object, finish: string | null) => ({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }] });
    send(chunk({ role: 'assistant', content: '' }, null));
    for (const p of pieces) {
      if (res.destroyed) return;
      send(chunk({ content: p }, null));
      if (s.chunkDelayMs) await sleep(s.chunkDelayMs);
    }
    send(chunk({}, 'stop'));
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
