/**
 * ChatRequest -> the Cloud Code v1internal envelope around a Gemini-format request.
 * Claude and Gemini models both speak it here. Thinking parts go back with their
 * signatures (from the request, else the signature cache); a Gemini tool call whose
 * signature is lost gets the documented skip sentinel, an unsigned Claude thinking
 * block is left out (Claude rejects a thinking block without its signature).
 */
import { randomUUID } from 'node:crypto';
import { systemAsUserText, type ChatRequest, type ContentPart } from '../../core/request.js';
import { sanitizeSchema } from './schema.js';
import { SKIP_SIGNATURE, type SignatureCache } from './signatures.js';

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

export function buildInner(req: ChatRequest, sigs: SignatureCache): Record<string, unknown> {
  const claude = isClaude(req.model);
  const names = new Map<string, string>();
  for (const m of req.messages) for (const p of m.content) if (p.type === 'tool-call') names.set(p.id, p.name);

  const part = (p: ContentPart): GPart | undefined => {
    switch (p.type) {
      case 'text':
        return p.text ? { text: p.text } : undefined;
      case 'image':
        return p.data ? { inlineData: { mimeType: p.mediaType ?? 'image/png', data: p.data } } : undefined;
      case 'reasoning': {
        const sig = p.signature ?? sigs.thinking(p.text);
        return sig && p.text ? { text: p.text, thought: true, thoughtSignature: sig } : undefined;
      }
      case 'tool-call': {
        const sig = sigs.toolCall(p.id) ?? (claude ? undefined : SKIP_SIGNATURE);
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
    const parts = m.content.map(part).filter((x): x is GPart => x !== undefined);
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

export function envelope(req: ChatRequest, project: string, sigs: SignatureCache): Record<string, unknown> {
  return { project, model: req.model, userAgent: 'antigravity', requestType: 'agent', requestId: `agent-${randomUUID()}`, request: buildInner(req, sigs) };
}
