/**
 * A fake Gemini API (generativelanguage v1beta) on 127.0.0.1 speaking the real wire
 * format: streamGenerateContent (SSE with alt=sse, else a JSON array), generateContent,
 * countTokens. For driving the real Gemini CLI offline.
 */
import http from 'node:http';
import { startFakeServer, sleep } from './http.js';

export interface FakeGeminiScript {
  /** default: "Echo: <last user text>" */
  reply?: string | ((userText: string, body: any) => string);
  status?: number;
  delayMs?: number;
  chunkDelayMs?: number;
  hang?: boolean;
  usage?: { promptTokenCount: number; candidatesTokenCount: number; cachedContentTokenCount?: number };
}

export interface FakeGemini {
  url: string;
  requests: { path: string; method: string; model: string; headers: http.IncomingHttpHeaders; body: any }[];
  setScript(s: FakeGeminiScript): void;
  close(): Promise<void>;
}

const STATUS: Record<number, string> = { 400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 429: 'RESOURCE_EXHAUSTED', 500: 'INTERNAL', 503: 'UNAVAILABLE' };

export function lastGeminiUserText(body: any): string {
  const contents: any[] = Array.isArray(body?.contents) ? body.contents : [];
  const user = [...contents].reverse().find((c) => c.role === 'user' && c.parts?.some((p: any) => typeof p.text === 'string'));
  return (user?.parts ?? []).map((p: any) => p.text ?? '').join('');
}

export async function startFakeGemini(initial: FakeGeminiScript = {}): Promise<FakeGemini> {
  let script = initial;
  const requests: FakeGemini['requests'] = [];
  const server = await startFakeServer(async ({ req, res, raw, body }) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/v1(?:beta|alpha)?\/models\/([^:]+):(\w+)$/.exec(url.pathname);
    requests.push({ path: url.pathname, method: m?.[2] ?? '', model: m?.[1] ?? '', headers: req.headers, body });
    const s = script;
    const json = (status: number, obj: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(obj));
    };
    if (!m) return json(404, { error: { code: 404, message: `Not found: ${url.pathname}`, status: 'NOT_FOUND' } });
    const [, model, method] = m;
    if (method === 'countTokens') return json(200, { totalTokens: Math.max(1, Math.ceil(raw.length / 4)) });
    if (s.hang) return;
    if (s.delayMs) await sleep(s.delayMs);
    if (s.status && s.status >= 400) {
      return json(s.status, { error: { code: s.status, message: `fake gemini says ${s.status}`, status: STATUS[s.status] ?? 'INTERNAL' } });
    }
    const userText = lastGeminiUserText(body);
    const reply = typeof s.reply === 'function' ? s.reply(userText, body) : (s.reply ?? `Echo: ${userText}`);
    const pieces = reply.match(/\S+\s*|\s+/g) ?? [''];
    const usage = s.usage ?? { promptTokenCount: 13, candidatesTokenCount: pieces.length };
    const usageMetadata = { ...usage, totalTokenCount: usage.promptTokenCount + usage.candidatesTokenCount };
    const chunk = (text: string, last: boolean) => ({
      candidates: [{ content: { role: 'model', parts: [{ text }] }, index: 0, ...(last ? { finishReason: 'STOP' } : {}) }],
      usageMetadata: last ? usageMetadata : { promptTokenCount: usage.promptTokenCount, totalTokenCount: usage.promptTokenCount },
      modelVersion: model,
      responseId: `fake-${requests.length}`,
    });
    if (method === 'generateContent') return json(200, chunk(reply, true));
    if (method !== 'streamGenerateContent') return json(404, { error: { code: 404, message: `unknown method ${method}`, status: 'NOT_FOUND' } });
    const sse = url.searchParams.get('alt') === 'sse';
    res.writeHead(200, { 'content-type': sse ? 'text/event-stream' : 'application/json' });
    if (!sse) res.write('[');
    for (let i = 0; i < pieces.length; i++) {
      if (res.destroyed) return;
      const obj = chunk(pieces[i]!, i === pieces.length - 1);
      res.write(sse ? `data: ${JSON.stringify(obj)}\r\n\r\n` : `${i ? ',\r\n' : ''}${JSON.stringify(obj)}`);
      if (s.chunkDelayMs) await sleep(s.chunkDelayMs);
    }
    if (!sse) res.write(']');
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
