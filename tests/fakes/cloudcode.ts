/**
 * A fake Google Cloud Code / Antigravity backend on 127.0.0.1: the Google OAuth token
 * endpoint (form-encoded refresh), two API roots (`${url}/a`, `${url}/b`; the first can be
 * made to fail), loadCodeAssist and onboardUser, streamGenerateContent?alt=sse with
 * thinking parts and signatures, fetchAvailableModels, and 429 RESOURCE_EXHAUSTED with a
 * retry delay. It checks what a real backend would reject: a wrong project, an unknown
 * token, a Claude thinking block or a Gemini function call sent back without the
 * signature it was given ("invalid signature"; a thinking block's signature covers its text
 * and its model family), and JSON-schema keywords Gemini refuses. With Claude thinking on,
 * it refuses what Anthropic's API refuses: a turn of the current tool loop (the model turns
 * after the last user turn that is not only function responses) that called a tool without
 * starting with its signed thinking.
 *
 * Google's implicit prompt cache, scoped as Antigravity sees it: per account, project, model
 * and `request.sessionId`, the previous request's prompt (system instruction, tools, then each
 * content) is remembered; a request with the same session id on the same account whose prompt
 * starts with what that one sent reports the shared leading items as `cachedContentTokenCount`
 * (tokens estimated at 4 characters each; `promptTokenCount` is the whole prompt, cached share
 * included). No session id, another account or another session: nothing cached. (The real
 * cache also wants a minimum prompt size; the fake does not, so tests stay small.) A script's
 * `cachedTokens` overrides this with a fixed usage (prompt 1000, that many cached).
 */
import { randomBytes } from 'node:crypto';
import { startFakeServer, sendJson, type FakeServer } from './http.js';

export interface FakeCloudAccount {
  refresh_token: string;
  /** the project loadCodeAssist reports; absent = the account must be onboarded */
  project?: string;
}

export interface FakeCloudScript {
  reply?: string;
  thinking?: string;
  toolCall?: { name: string; args: Record<string, unknown> };
  /** several calls in one turn (after toolCall, if both) */
  toolCalls?: { name: string; args: Record<string, unknown> }[];
  cachedTokens?: number;
  /** per refresh token: answer 429 with this retry delay (seconds) */
  exhausted?: Record<string, number>;
  primaryDown?: boolean;
}

export const OAUTH = { clientId: 'test-client.apps.googleusercontent.com', clientSecret: 'test-secret' };
const SKIP = 'skip_thought_signature_validator';
const FORBIDDEN_SCHEMA = ['$schema', 'additionalProperties', '$ref', '$defs', 'const', 'default', 'exclusiveMinimum'];

export interface FakeCloud extends FakeServer {
  roots: string[];
  calls: { path: string; account?: string; body?: any }[];
  /** every thinking signature handed out, in order */
  thoughts: { signature: string; text: string; model: string; account: string }[];
  /** the usage each streamGenerateContent answered, in order, with the session id it was sent */
  usage: { account: string; sessionId?: string; promptTokenCount: number; cachedContentTokenCount: number }[];
  setScript(s: FakeCloudScript): void;
  count(method: string, account?: string): number;
}

export async function startFakeCloud(accounts: FakeCloudAccount[]): Promise<FakeCloud> {
  let script: FakeCloudScript = {};
  const calls: FakeCloud['calls'] = [];
  const access = new Map<string, string>(); // token -> refresh token
  const onboarded = new Map<string, { polls: number; project: string }>();
  const thoughts: FakeCloud['thoughts'] = [];
  const issued = new Map<string, FakeCloud['thoughts'][number]>(); // thinking signature -> what it signed
  const callSigs = new Map<string, string>(); // function call id -> signature
  const cache = new Map<string, string[]>(); // account, project, model, session id -> the previous prompt's items
  const usage: FakeCloud['usage'] = [];
  const tokens = (items: string[]) => Math.ceil(items.reduce((n, i) => n + i.length, 0) / 4);

  const projectOf = (rt: string) => accounts.find((a) => a.refresh_token === rt)?.project ?? onboarded.get(rt)?.project;

  const server = await startFakeServer(({ req, res, path, raw, body }) => {
    if (path === '/token') {
      const form = new URLSearchParams(raw);
      calls.push({ path, account: form.get('refresh_token') ?? undefined });
      if (form.get('client_id') !== OAUTH.clientId || form.get('client_secret') !== OAUTH.clientSecret) return sendJson(res, 401, { error: 'invalid_client' });
      if (form.get('grant_type') === 'authorization_code') {
        // the consent page of this fake hands out codes "code-for:<refresh token>"
        const rt = /^code-for:(.+)$/.exec(form.get('code') ?? '')?.[1];
        if (!rt || !accounts.some((a) => a.refresh_token === rt) || !form.get('code_verifier') || !form.get('redirect_uri')) return sendJson(res, 400, { error: 'invalid_grant' });
        const token = `ya29.${randomBytes(8).toString('hex')}`;
        access.set(token, rt);
        return sendJson(res, 200, { access_token: token, refresh_token: rt, expires_in: 3599 });
      }
      const rt = form.get('refresh_token') ?? '';
      if (form.get('grant_type') !== 'refresh_token' || !accounts.some((a) => a.refresh_token === rt)) return sendJson(res, 400, { error: 'invalid_grant' });
      const token = `ya29.${randomBytes(8).toString('hex')}`;
      access.set(token, rt);
      return sendJson(res, 200, { access_token: token, expires_in: 3599, token_type: 'Bearer' });
    }
    if (path === '/userinfo') {
      const rt = access.get(/^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '');
      return rt ? sendJson(res, 200, { email: `${rt.replace(/\W/g, '')}@example.com` }) : sendJson(res, 401, { error: 'invalid_token' });
    }
    const m = /^\/(a|b)\/v1internal:(\w+)$/.exec(path);
    if (!m) return sendJson(res, 404, { error: { code: 404, message: `no route ${path}` } });
    const [, root, method] = m;
    const rt = access.get(/^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '');
    calls.push({ path: `${root}:${method}`, account: rt, body });
    if (root === 'a' && script.primaryDown) return sendJson(res, 503, { error: { code: 503, message: 'unavailable', status: 'UNAVAILABLE' } });
    if (!rt) return sendJson(res, 401, { error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' } });

    if (method === 'loadCodeAssist') {
      const project = projectOf(rt);
      return sendJson(res, 200, project ? { cloudaicompanionProject: project, currentTier: { id: 'standard-tier' } } : { allowedTiers: [{ id: 'free-tier', isDefault: true }] });
    }
    if (method === 'onboardUser') {
      const o = onboarded.get(rt) ?? { polls: 0, project: `onboarded-${rt}` };
      o.polls++;
      onboarded.set(rt, o);
      // a long-running operation: not done on the first poll
      return sendJson(res, 200, o.polls < 2 ? { done: false } : { done: true, response: { cloudaicompanionProject: { id: o.project } } });
    }
    if (method === 'fetchAvailableModels') {
      if (body?.project !== projectOf(rt)) return sendJson(res, 403, { error: { code: 403, message: 'project mismatch' } });
      return sendJson(res, 200, { models: { 'gemini-3-pro-high': { quotaInfo: { remainingFraction: 0.75, resetTime: '2026-11-25T00:00:00Z' } }, 'claude-sonnet-4-5-thinking': { quotaInfo: { remainingFraction: 0.2, resetTime: '2026-11-24T12:00:00Z' } } } });
    }
    if (method !== 'streamGenerateContent') return sendJson(res, 404, { error: { code: 404, message: `no method ${method}` } });

    if (body?.project !== projectOf(rt) || body?.userAgent !== 'antigravity' || !body?.model) return sendJson(res, 400, { error: { code: 400, message: 'bad envelope', status: 'INVALID_ARGUMENT' } });
    const delay = script.exhausted?.[rt];
    if (delay !== undefined) {
      return sendJson(res, 429, {
        error: { code: 429, message: 'Resource has been exhausted', status: 'RESOURCE_EXHAUSTED', details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${delay}s` }] },
      });
    }
    const claude = String(body.model).startsWith('claude-');
    // what a real backend refuses
    const schemaText = JSON.stringify(body.request?.tools ?? []);
    const bad = FORBIDDEN_SCHEMA.find((k) => schemaText.includes(`"${k}"`));
    if (bad) return sendJson(res, 400, { error: { code: 400, message: `Invalid JSON payload: unknown field "${bad}"`, status: 'INVALID_ARGUMENT' } });
    const contents: { role: string; parts?: any[] }[] = body.request?.contents ?? [];
    for (const c of contents) {
      if (c.role !== 'model') continue;
      for (const p of c.parts ?? []) {
        const signed = p.thought ? issued.get(p.thoughtSignature) : undefined;
        if (p.thought && claude && (signed?.account !== rt || !signed.model.startsWith('claude-') || signed.text !== p.text)) return sendJson(res, 400, { error: { code: 400, message: 'Invalid `signature` in `thinking` block', status: 'INVALID_ARGUMENT' } });
        if (p.thought && !claude && signed?.model.startsWith('claude-')) return sendJson(res, 400, { error: { code: 400, message: 'Corrupted thought signature.', status: 'INVALID_ARGUMENT' } });
        if (p.functionCall && !claude) {
          const want = callSigs.get(p.functionCall.id);
          if (want && p.thoughtSignature !== want && p.thoughtSignature !== SKIP) return sendJson(res, 400, { error: { code: 400, message: 'Function call is missing a thought_signature', status: 'INVALID_ARGUMENT' } });
          if (!p.thoughtSignature) return sendJson(res, 400, { error: { code: 400, message: 'Function call is missing a thought_signature', status: 'INVALID_ARGUMENT' } });
        }
      }
    }
    const thinkingConfig = body.request?.generationConfig?.thinkingConfig;
    if (claude && thinkingConfig && (thinkingConfig.includeThoughts || thinkingConfig.thinkingBudget > 0)) {
      // Anthropic: with thinking on, the turns of the current tool loop start with their thinking
      let loop = 0;
      contents.forEach((c, i) => {
        if (c.role === 'user' && !(c.parts ?? []).some((p) => p.functionResponse)) loop = i + 1;
      });
      for (let i = loop; i < contents.length; i++) {
        const c = contents[i]!;
        const parts = c.parts ?? [];
        if (c.role !== 'model' || !parts.some((p) => p.functionCall) || parts[0]?.thought) continue;
        const found = parts[0]?.functionCall ? 'tool_use' : 'text';
        const message =
          `messages.${i}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${found}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block ` +
          '(preceeding the lastmost set of `tool_use` and `tool_result` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable `thinking`. ' +
          'Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking';
        return sendJson(res, 400, { error: { code: 400, message: JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message } }), status: 'INVALID_ARGUMENT' } });
      }
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const send = (parts: unknown[], extra: Record<string, unknown> = {}) => res.write(`data: ${JSON.stringify({ response: { candidates: [{ content: { role: 'model', parts }, ...extra }] } })}\r\n\r\n`);
    const wantsThinking = body.request?.generationConfig?.thinkingConfig?.includeThoughts;
    if (script.thinking && wantsThinking) {
      send([{ text: script.thinking, thought: true }]);
      const sig = `sig-${randomBytes(10).toString('hex')}`;
      const t = { signature: sig, text: script.thinking, model: String(body.model), account: rt };
      issued.set(sig, t);
      thoughts.push(t);
      send([{ text: '', thought: true, thoughtSignature: sig }]);
    }
    const text = script.reply ?? 'Cloud says hi.';
    for (const piece of text.match(/\S+\s*/g) ?? []) send([{ text: piece }]);
    for (const call of [...(script.toolCall ? [script.toolCall] : []), ...(script.toolCalls ?? [])]) {
      const id = `toolu_${randomBytes(6).toString('hex')}`;
      const sig = `fsig-${randomBytes(8).toString('hex')}`;
      callSigs.set(id, sig);
      send([{ functionCall: { id, name: call.name, args: call.args }, thoughtSignature: sig }]);
    }
    // the implicit cache: the leading items this prompt shares with the session's previous one
    const sessionId = typeof body.request?.sessionId === 'string' && body.request.sessionId ? (body.request.sessionId as string) : undefined;
    const prompt = [body.request?.systemInstruction, body.request?.tools, ...contents].filter((i) => i !== undefined).map((i) => JSON.stringify(i));
    let shared = 0;
    if (sessionId) {
      const key = JSON.stringify([rt, body.project, body.model, sessionId]);
      const before = cache.get(key) ?? [];
      while (shared < before.length && shared < prompt.length && before[shared] === prompt[shared]) shared++;
      cache.set(key, prompt);
    }
    const promptTokenCount = script.cachedTokens !== undefined ? 1000 : tokens(prompt);
    const cachedContentTokenCount = script.cachedTokens ?? tokens(prompt.slice(0, shared));
    usage.push({ account: rt, ...(sessionId ? { sessionId } : {}), promptTokenCount, cachedContentTokenCount });
    res.write(
      `data: ${JSON.stringify({ response: { candidates: [{ content: { role: 'model', parts: [] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount, candidatesTokenCount: 20, cachedContentTokenCount, totalTokenCount: promptTokenCount + 20 } } })}\r\n\r\n`,
    );
    res.end();
  });

  return {
    ...server,
    roots: [`${server.url}/a`, `${server.url}/b`],
    calls,
    thoughts,
    usage,
    setScript(s) {
      script = s;
    },
    count(method, account) {
      return calls.filter((c) => c.path.endsWith(method) && (account === undefined || c.account === account)).length;
    },
  };
}

/** the variables that point cligate's Cloud Code provider at this fake (token endpoint, API roots, its OAuth client) */
export function cloudcodeEnv(fake: Pick<FakeCloud, 'url' | 'roots'>): Record<string, string> {
  return { CLOUDCODE_OAUTH_CLIENT_ID: OAUTH.clientId, CLOUDCODE_OAUTH_CLIENT_SECRET: OAUTH.clientSecret, CLOUDCODE_TOKEN_URL: `${fake.url}/token`, CLOUDCODE_ENDPOINTS: fake.roots.join(',') };
}
