/**
 * A fake Anthropic Messages API on 127.0.0.1 that speaks the real wire format
 * (SSE events and JSON), so the real `claude` CLI can run against it offline.
 * Scripts make it answer with errors, delays, hangs or a chosen reply.
 */
import http from 'node:http';
import { startFakeServer, sleep } from './http.js';

export interface FakeAnthropicScript {
  /** default: "Echo: <last user text>" */
  reply?: string | ((userText: string, body: any) => string);
  /** answer with Anthropic's error JSON and this status (429 adds retry-after) */
  status?: number;
  /** delay before the response headers */
  delayMs?: number;
  /** delay between text deltas */
  chunkDelayMs?: number;
  /** exactly this many text_delta events (default: one per word) */
  chunks?: number;
  /** accept the request and never answer */
  hang?: boolean;
  /** answer with these tool calls instead of text (when it returns some) */
  toolUse?: (body: any) => { name: string; input: Record<string, unknown> }[] | undefined;
  usage?: { input_tokens: number; output_tokens: number; cache_read_input_tokens?: number; cache_creation_input_tokens?: number };
}

export interface FakeAnthropic {
  url: string;
  port: number;
  /** every request except the CLI's `HEAD /` connection warm-up (path without query string) */
  requests: { path: string; headers: http.IncomingHttpHeaders; body: any }[];
  setScript(s: FakeAnthropicScript): void;
  close(): Promise<void>;
}

const ERROR_TYPE: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

/** the text of the last user turn, without Claude Code's <system-reminder> parts */
export function lastUserText(body: any): string {
  const msgs: any[] = Array.isArray(body?.messages) ? body.messages : [];
  const user = [...msgs].reverse().find((m) => m.role === 'user');
  if (!user) return '';
  if (typeof user.content === 'string') return user.content;
  return (user.content as any[])
    .filter((p) => p.type === 'text' && !String(p.text).trimStart().startsWith('<system-reminder>'))
    .map((p) => p.text)
    .join('\n');
}

function split(text: string, n?: number): string[] {
  if (!n || n < 1) return text.match(/\S+\s*|\s+/g) ?? [''];
  return Array.from({ length: n }, (_, i) => text.slice(Math.floor((i * text.length) / n), Math.floor(((i + 1) * text.length) / n)));
}

export async function startFakeAnthropic(initial: FakeAnthropicScript = {}): Promise<FakeAnthropic> {
  let script = initial;
  const requests: FakeAnthropic['requests'] = [];

  const server = await startFakeServer(async ({ req, res, path, raw, body }) => {
    if (req.method === 'HEAD') return void res.writeHead(404).end();
    requests.push({ path, headers: req.headers, body });
    const s = script;
    const json = (status: number, obj: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_fake_${requests.length}`, ...headers });
      res.end(JSON.stringify(obj));
    };

    if (req.method === 'POST' && path === '/v1/messages/count_tokens') {
      return json(200, { input_tokens: Math.max(1, Math.ceil(raw.length / 4)) });
    }
    if (req.method !== 'POST' || path !== '/v1/messages') {
      return json(404, { type: 'error', error: { type: 'not_found_error', message: `Not found: ${req.method} ${path}` } });
    }
    if (s.hang) return; // never answer; close() destroys the socket
    if (s.delayMs) await sleep(s.delayMs);
    if (s.status && s.status >= 400) {
      const type = ERROR_TYPE[s.status] ?? 'api_error';
      return json(
        s.status,
        { type: 'error', error: { type, message: `fake upstream says ${s.status} (${type})` } },
        s.status === 429 ? { 'retry-after': '7' } : {},
      );
    }

    const calls = s.toolUse?.(body);
    if (calls?.length) {
      const id = `msg_fake_${requests.length}`;
      const blocks = calls.map((c, i) => ({ type: 'tool_use', id: `toolu_fake_${requests.length}_${i}`, name: c.name, input: c.input }));
      const usage = { input_tokens: 11, output_tokens: 5 };
      if (!body?.stream) return json(200, { id, type: 'message', role: 'assistant', model: body?.model, content: blocks, stop_reason: 'tool_use', stop_sequence: null, usage });
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      send('message_start', { type: 'message_start', message: { id, type: 'message', role: 'assistant', model: body?.model, content: [], stop_reason: null, stop_sequence: null, usage } });
      blocks.forEach((b, index) => {
        send('content_block_start', { type: 'content_block_start', index, content_block: { ...b, input: {} } });
        send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(b.input) } });
        send('content_block_stop', { type: 'content_block_stop', index });
      });
      send('message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 5 } });
      send('message_stop', { type: 'message_stop' });
      return void res.end();
    }

    const userText = lastUserText(body);
    const reply = typeof s.reply === 'function' ? s.reply(userText, body) : (s.reply ?? `Echo: ${userText}`);
    const pieces = split(reply, s.chunks);
    const usage = s.usage ?? { input_tokens: 11, output_tokens: pieces.length };
    const id = `msg_fake_${requests.length}`;
    const model = body?.model ?? 'claude-sonnet-4-5';

    if (!body?.stream) {
      return json(200, {
        id, type: 'message', role: 'assistant', model,
        content: [{ type: 'text', text: reply }],
        stop_reason: 'end_turn', stop_sequence: null, usage,
      });
    }

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': `req_fake_${requests.length}` });
    const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    send('message_start', {
      type: 'message_start',
      message: {
        id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null,
        usage: { ...usage, output_tokens: 1 },
      },
    });
    send('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    send('ping', { type: 'ping' });
    for (const text of pieces) {
      if (res.destroyed) return;
      send('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } });
      if (s.chunkDelayMs) await sleep(s.chunkDelayMs);
    }
    send('content_block_stop', { type: 'content_block_stop', index: 0 });
    send('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: usage.output_tokens },
    });
    send('message_stop', { type: 'message_stop' });
    res.end();
  });
  return {
    url: server.url,
    port: server.port,
    requests,
    close: server.close,
    setScript(next) {
      script = next;
    },
  };
}
