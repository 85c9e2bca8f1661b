/**
 * ChatRequest -> the Cloud Code v1internal envelope around a Gemini-format request.
 * Claude and Gemini models both speak it here. Thinking parts go back with their
 * signatures (from the request, else the signature cache); a Gemini tool call whose
 * signature is lost gets the documented skip sentinel, an unsigned Claude thinking
 * block is left out (Claude rejects a thinking block without its signature).
 *
 * The current tool loop (the model turns after the last user turn that is not only tool
 * results) is where the upstream checks: with Claude thinking on, each of its turns that
 * called tools must start with its signed thinking, as Anthropic's API demands. A client
 * that dropped it gets it back whole from what cligate streamed (`restoreToolLoop`); when
 * that is gone too (a restart, an evicted entry), thinking is turned off for the request,
 * which the upstream accepts, instead of sending a request it refuses.
 */
import { createHash, randomUUID } from 'node:crypto';
import { systemAsUserText, type ChatRequest, type ContentPart } from '../../core/request.js';
import { sanitizeSchema } from './schema.js';
import { familyOf, SKIP_SIGNATURE, type SignatureCache, type SignatureScope, type ThinkingBlock, type TurnRecord } from './signatures.js';

export interface GPart {
  text?: string;
  thought?: boolean;
  thoughtSignature?: string;
  inlineData?: { mimeType: string; data: string };
  functionCall?: { name: string; args: Record<string, unknown>; id?: string };
  functionResponse?: { name: string; response: Record<string, unknown>; id?: string };
}
export interface GContent {
  role: 'user' | 'model';
  parts: GPart[];
}

export const THINKING_BUDGET = 16_000;
export const isClaude = (model: string) => model.startsWith('claude-');
export const thinks = (model: string) => model.endsWith('-thinking') || model.startsWith('gemini-3') || model.startsWith('gemini-2.5');

function args(json: string): Record<string, unknown> {
  try {
    const v = JSON.parse(json || '{}') as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : { value: v };
  } catch {
    return { raw: json };
  }
}

/** whose signatures a request may use: its model family, in its conversation */
export const scopeOf = (req: ChatRequest): SignatureScope => ({ family: familyOf(req.model), conversation: req.sessionKey ?? '' });

const thoughtPart = (b: ThinkingBlock): GPart => ({ text: b.text, thought: true, thoughtSignature: b.signature });

/** the request from what the client sent and what this process remembers (no shared-state look-ups) */
export function buildInner(req: ChatRequest, sigs: SignatureCache, scope: SignatureScope = scopeOf(req)): Record<string, unknown> {
  const claude = isClaude(req.model);
  const names = new Map<string, string>();
  for (const m of req.messages) for (const p of m.content) if (p.type === 'tool-call') names.set(p.id, p.name);

  const part = (p: ContentPart): GPart | GPart[] | undefined => {
    switch (p.type) {
      case 'text':
        return p.text ? { text: p.text } : undefined;
      case 'image':
        return p.data ? { inlineData: { mimeType: p.mediaType ?? 'image/png', data: p.data } } : undefined;
      case 'reasoning': {
        if (!p.text) return undefined; // a signature without its text (Responses without summaries) cannot go back alone
        if (p.signature) return { text: p.text, thought: true, thoughtSignature: p.signature };
        return sigs.thinking(scope, p.text)?.map(thoughtPart);
      }
      case 'tool-call': {
        const sig = sigs.localTurn(scope, p.id)?.signature ?? (claude ? undefined : SKIP_SIGNATURE);
        return { functionCall: { name: p.name, args: args(p.arguments), id: p.id }, ...(sig ? { thoughtSignature: sig } : {}) };
      }
      case 'tool-result':
        return {
          functionResponse: {
            name: p.name ?? names.get(p.toolCallId) ?? 'tool',
            id: p.toolCallId,
            response: p.isError ? { error: p.content } : { output: p.content },
          },
        };
    }
  };

  const contents: GContent[] = [];
  // no system turn mid-conversation here: a system message joins the user turn beside it
  for (const m of systemAsUserText(req.messages)) {
    const role = m.role === 'assistant' ? 'model' : 'user';
    const parts = m.content.flatMap((p) => part(p) ?? []);
    if (!parts.length) continue;
    const last = contents.at(-1);
    if (last && last.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  }

  const inner: Record<string, unknown> = { contents };
  if (req.system) inner.systemInstruction = { role: 'user', parts: [{ text: req.system }] };
  if (req.tools?.length) {
    inner.tools = [{ functionDeclarations: req.tools.map((t) => ({ name: t.name, description: t.description ?? '', parameters: sanitizeSchema(t.parameters ?? { type: 'object', properties: {} }) })) }];
    const c = req.toolChoice;
    const mode = c === 'none' ? 'NONE' : c === 'required' || typeof c === 'object' ? 'ANY' : 'AUTO';
    inner.toolConfig = { functionCallingConfig: { mode, ...(typeof c === 'object' ? { allowedFunctionNames: [c.name] } : {}) } };
  }
  const gen: Record<string, unknown> = {};
  if (req.temperature !== undefined) gen.temperature = req.temperature;
  if (req.topP !== undefined) gen.topP = req.topP;
  if (req.stop?.length) gen.stopSequences = req.stop;
  if (thinks(req.model)) {
    gen.thinkingConfig = claude ? { includeThoughts: true, thinkingBudget: THINKING_BUDGET } : { includeThoughts: true };
    // Claude needs room for the answer beyond the thinking budget
    gen.maxOutputTokens = claude ? Math.max(req.maxTokens ?? 0, THINKING_BUDGET + 8_192) : (req.maxTokens ?? 65_536);
  } else if (req.maxTokens) gen.maxOutputTokens = req.maxTokens;
  inner.generationConfig = gen;
  return inner;
}

/** the model turns of the current tool loop: after the last user turn that is more than tool results */
export function toolLoop(contents: GContent[]): GContent[] {
  let start = 0;
  contents.forEach((c, i) => {
    if (c.role === 'user' && !c.parts.some((p) => p.functionResponse)) start = i + 1;
  });
  return contents.slice(start).filter((c) => c.role === 'model');
}

const signedThinkingFirst = (c: GContent) => {
  const first = c.parts[0];
  return !!(first?.thought && first.text && first.thoughtSignature);
};

export interface Restored {
  /** Claude turns given back their signed thinking */
  thinking: number;
  /** Gemini calls given back their signature */
  calls: number;
  /** why thinking was turned off for this request, if it was */
  thinkingOff?: string;
}

/**
 * Completes the current tool loop of a built request from the signature cache, the shared state
 * included: each Claude turn that called tools gets its signed thinking back in front of its
 * calls (when thinking is on), each Gemini call its own signature instead of the skip sentinel.
 * A Claude turn whose thinking cannot be found turns thinking off for the request.
 */
export async function restoreToolLoop(inner: Record<string, unknown>, req: ChatRequest, sigs: SignatureCache, scope: SignatureScope, onLookupError: (err: Error) => void): Promise<Restored> {
  const contents = inner.contents as GContent[];
  const gen = inner.generationConfig as Record<string, unknown>;
  const claudeThinking = isClaude(req.model) && gen.thinkingConfig !== undefined;
  const out: Restored = { thinking: 0, calls: 0 };
  // each call id looked up once per request
  const seen = new Map<string, Promise<TurnRecord | undefined>>();
  const lookUp = (id: string | undefined): Promise<TurnRecord | undefined> => {
    if (!id) return Promise.resolve(undefined);
    let found = seen.get(id);
    if (!found) {
      found = sigs.turn(scope, id).catch((err: Error) => {
        onLookupError(err);
        return undefined;
      });
      seen.set(id, found);
    }
    return found;
  };
  const lost: number[] = [];
  await Promise.all(
    toolLoop(contents).map(async (turn) => {
      const calls = turn.parts.filter((p) => p.functionCall);
      if (!calls.length) return;
      const unsigned = calls.filter((p) => !p.thoughtSignature || p.thoughtSignature === SKIP_SIGNATURE);
      await Promise.all(
        unsigned.map(async (p) => {
          const sig = (await lookUp(p.functionCall!.id))?.signature;
          if (!sig) return;
          p.thoughtSignature = sig;
          out.calls++;
        }),
      );
      if (!claudeThinking || signedThinkingFirst(turn)) return;
      // the first of its calls the cache knows with thinking (parallel calls share the turn's thinking)
      let thinking: ThinkingBlock[] | undefined;
      for (const p of calls) {
        thinking = (await lookUp(p.functionCall!.id))?.thinking;
        if (thinking?.length) break;
      }
      if (!thinking?.length) {
        lost.push(contents.indexOf(turn));
        return;
      }
      turn.parts = [...thinking.map(thoughtPart), ...turn.parts.filter((p) => !p.thought)];
      out.thinking++;
    }),
  );
  if (lost.length) {
    out.thinkingOff = `the signed thinking of the tool-call turn${lost.length > 1 ? 's' : ''} at contents[${lost.sort((a, b) => a - b).join(', ')}] was not sent back and is not in the signature cache`;
    thinkingOff(inner, req);
  }
  return out;
}

/** thinking off for one request: no thinking config, no thought parts (a turn left empty goes) */
function thinkingOff(inner: Record<string, unknown>, req: ChatRequest): void {
  const gen = inner.generationConfig as Record<string, unknown>;
  delete gen.thinkingConfig;
  if (req.maxTokens) gen.maxOutputTokens = req.maxTokens;
  else delete gen.maxOutputTokens;
  const contents: GContent[] = [];
  for (const c of inner.contents as GContent[]) {
    const parts = c.parts.filter((p) => !p.thought);
    if (!parts.length) continue;
    const last = contents.at(-1);
    if (last && last.role === c.role) last.parts.push(...parts);
    else contents.push({ role: c.role, parts });
  }
  inner.contents = contents;
}

/**
 * The id of a conversation on one account, sent as `request.sessionId` as Antigravity does:
 * Google scopes its implicit prompt cache by it, so the turns of one conversation on one
 * account read the prefix they share from the cache (usage then counts it in
 * `cachedContentTokenCount`). A hash of the account and the conversation's key (the
 * client's session header, else a hash of the first user turn, as the surfaces derive it),
 * so it is stable across turns and instances, differs per account (no correlating a
 * conversation across accounts), and carries neither message text nor the client's key.
 * Undefined when there is nothing to key a conversation by (no user turn).
 */
export function sessionIdFor(req: ChatRequest, accountId: string): string | undefined {
  let key = req.sessionKey;
  if (!key) {
    const first = req.messages.find((m) => m.role === 'user');
    if (!first) return undefined;
    key = JSON.stringify(first.content);
  }
  return createHash('sha256').update(`cloudcode-session\0${accountId}\0${key}`).digest('hex').slice(0, 32);
}

export function envelope(req: ChatRequest, project: string, inner: Record<string, unknown>, sessionId?: string): Record<string, unknown> {
  const request = sessionId ? { ...inner, sessionId } : inner;
  return { project, model: req.model, userAgent: 'antigravity', requestType: 'agent', requestId: `agent-${randomUUID()}`, request };
}
