/**
 * What a well-formed answer looks like in each dialect, for tests that must judge raw
 * bodies (the SDKs would hide a malformed one): the request to send, and a checker that
 * says why a status + body is not a proper success or a proper error.
 */
export type Dialect = 'openai' | 'anthropic' | 'gemini' | 'responses';

export function requestFor(dialect: Dialect, model: string, text: string, stream: boolean): { path: string; body: unknown } {
  if (dialect === 'openai') return { path: '/v1/chat/completions', body: { model, stream, messages: [{ role: 'user', content: text }] } };
  if (dialect === 'anthropic') return { path: '/v1/messages', body: { model, stream, max_tokens: 64, messages: [{ role: 'user', content: text }] } };
  if (dialect === 'responses') return { path: '/v1/responses', body: { model, stream, store: false, input: text } };
  return { path: `/v1beta/models/${model}:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`, body: { contents: [{ role: 'user', parts: [{ text }] }] } };
}

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** the dialect's error shape, or why not */
export function errorShape(dialect: Dialect, body: unknown): string | undefined {
  if (!isObj(body)) return 'error body is not an object';
  if (dialect === 'openai' || dialect === 'responses') return isObj(body.error) && typeof body.error.message === 'string' && typeof body.error.type === 'string' && 'code' in body.error ? undefined : 'not {error:{message,type,code}}';
  if (dialect === 'anthropic') return body.type === 'error' && isObj(body.error) && typeof body.error.type === 'string' && typeof body.error.message === 'string' ? undefined : 'not {type:"error",error:{type,message}}';
  return isObj(body.error) && typeof body.error.code === 'number' && typeof body.error.message === 'string' && typeof body.error.status === 'string' ? undefined : 'not {error:{code,message,status}}';
}

function successShape(dialect: Dialect, body: unknown): string | undefined {
  if (!isObj(body)) return 'body is not an object';
  if (dialect === 'openai') return body.object === 'chat.completion' && Array.isArray(body.choices) && isObj(body.choices[0]?.message) ? undefined : 'not a chat.completion';
  if (dialect === 'anthropic') return body.type === 'message' && Array.isArray(body.content) ? undefined : 'not a message';
  if (dialect === 'responses') return body.object === 'response' && Array.isArray(body.output) && isObj(body.usage) && ['completed', 'incomplete'].includes(body.status) ? undefined : 'not a completed response';
  return Array.isArray(body.candidates) ? undefined : 'not a GenerateContentResponse';
}

/** SSE events: [event name or undefined, data text] */
function sseEvents(text: string): { event?: string; data: string }[] | string {
  if (!text.endsWith('\n\n')) return 'stream does not end on an event boundary';
  const out: { event?: string; data: string }[] = [];
  for (const block of text.split('\n\n')) {
    if (!block.trim()) continue;
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
      else if (line.trim()) return `unexpected line ${JSON.stringify(line.slice(0, 60))}`;
    }
    if (data.length) out.push({ ...(event ? { event } : {}), data: data.join('\n') });
  }
  return out;
}

function parseAll(events: { event?: string; data: string }[], skipDone: boolean): unknown[] | string {
  const out: unknown[] = [];
  for (const e of events) {
    if (skipDone && e.data === '[DONE]') continue;
    try {
      out.push(JSON.parse(e.data));
    } catch {
      return `event data is not JSON: ${e.data.slice(0, 60)}`;
    }
  }
  return out;
}

/** undefined when the response is a proper success or a proper error in its dialect */
export function checkResponse(dialect: Dialect, stream: boolean, status: number, contentType: string, text: string): string | undefined {
  if (status !== 200 || !stream) {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return `HTTP ${status} body is not JSON: ${text.slice(0, 80)}`;
    }
    return status === 200 ? successShape(dialect, body) : errorShape(dialect, body);
  }
  if (!contentType.startsWith('text/event-stream')) return `stream content-type ${contentType}`;
  const events = sseEvents(text);
  if (typeof events === 'string') return events;
  if (!events.length) return 'empty stream';
  if (dialect === 'openai') {
    if (events.at(-1)!.data !== '[DONE]') return 'openai stream does not end with [DONE]';
    const chunks = parseAll(events, true);
    if (typeof chunks === 'string') return chunks;
    const last = chunks.at(-1) as Record<string, any> | undefined;
    if (last && 'error' in last) return errorShape('openai', last);
    return chunks.some((c: any) => c?.choices?.[0]?.finish_reason) ? undefined : 'openai stream has no finish_reason';
  }
  if (dialect === 'anthropic') {
    const data = parseAll(events, false);
    if (typeof data === 'string') return data;
    const lastEvent = events.at(-1)!.event;
    if (lastEvent === 'error') return errorShape('anthropic', data.at(-1));
    if (lastEvent !== 'message_stop') return `anthropic stream ends with ${lastEvent}`;
    return events[0]!.event === 'message_start' ? undefined : 'anthropic stream does not start with message_start';
  }
  if (dialect === 'responses') {
    const data = parseAll(events, false) as Record<string, any>[] | string;
    if (typeof data === 'string') return data;
    if (data.some((d, i) => d.sequence_number !== i)) return 'responses events are not numbered 0, 1, 2, …';
    if (events.some((e, i) => e.event !== data[i]!.type)) return 'responses event names and data types differ';
    if (data[0]!.type !== 'response.created') return `responses stream starts with ${data[0]!.type}`;
    const end = data.at(-1)!;
    if (end.type === 'response.failed') return isObj(end.response?.error) && typeof end.response.error.message === 'string' ? undefined : 'response.failed without error';
    if (end.type !== 'response.completed' && end.type !== 'response.incomplete') return `responses stream ends with ${end.type}`;
    return successShape('responses', end.response);
  }
  const data = parseAll(events, false);
  if (typeof data === 'string') return data;
  const last = data.at(-1) as Record<string, any>;
  if ('error' in last) return errorShape('gemini', last);
  return last?.candidates?.[0]?.finishReason ? undefined : 'gemini stream ends without finishReason';
}
