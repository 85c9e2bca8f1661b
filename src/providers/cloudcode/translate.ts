/**
 * streamGenerateContent?alt=sse -> StreamParts. Each SSE data line is
 * {"response": {candidates:[{content:{parts}, finishReason}], usageMetadata}}.
 * Thought parts become reasoning (their signature is kept for the next turn and passed
 * on with the reasoning), functionCall parts tool calls (with any thoughtSignature
 * remembered by call id), usage keeps the cached share apart (cacheReadTokens).
 */
import { randomBytes } from 'node:crypto';
import type { StreamPart, Usage } from '../../core/stream.js';
import type { GPart } from './request.js';
import type { SignatureCache } from './signatures.js';

interface Chunk {
  response?: {
    candidates?: { content?: { parts?: GPart[] }; finishReason?: string }[];
    usageMetadata?: { promptTokenCount?: number; candidatesTokenCount?: number; cachedContentTokenCount?: number; thoughtsTokenCount?: number };
  };
}

export class CloudCodeTranslator {
  private thinkingText = '';
  private usage: Usage | undefined;
  private finish: string | undefined;
  toolCalls = 0;

  constructor(private readonly sigs: SignatureCache) {}

  chunk(c: Chunk): StreamPart[] {
    const out: StreamPart[] = [];
    const r = c.response ?? (c as Chunk['response']);
    const cand = r?.candidates?.[0];
    for (const p of cand?.content?.parts ?? []) {
      if (p.thought) {
        if (p.text) {
          this.thinkingText += p.text;
          out.push({ type: 'reasoning-delta', text: p.text });
        }
        if (p.thoughtSignature) {
          this.sigs.forThinking(this.thinkingText, p.thoughtSignature);
          out.push({ type: 'reasoning-delta', text: '', signature: p.thoughtSignature });
        }
      } else if (p.functionCall) {
        const id = p.functionCall.id || `call_${randomBytes(12).toString('hex')}`;
        if (p.thoughtSignature) this.sigs.forToolCall(id, p.thoughtSignature);
        this.toolCalls++;
        out.push({ type: 'tool-call', id, name: p.functionCall.name, arguments: JSON.stringify(p.functionCall.args ?? {}) });
      } else if (p.text) {
        // a signature on an answer part (Gemini) belongs to the thinking before it
        if (p.thoughtSignature && this.thinkingText) this.sigs.forThinking(this.thinkingText, p.thoughtSignature);
        out.push({ type: 'text-delta', text: p.text });
      }
    }
    if (cand?.finishReason) this.finish = cand.finishReason;
    const u = r?.usageMetadata;
    if (u) {
      const cached = u.cachedContentTokenCount ?? 0;
      this.usage = {
        // core usage counts the whole prompt; each surface reports the cached share its own way
        // (Anthropic: input_tokens = prompt - cached, plus cache_read_input_tokens)
        inputTokens: u.promptTokenCount ?? 0,
        outputTokens: (u.candidatesTokenCount ?? 0) + (u.thoughtsTokenCount ?? 0),
        ...(cached ? { cacheReadTokens: cached } : {}),
      };
    }
    return out;
  }

  end(): StreamPart[] {
    const out: StreamPart[] = [];
    if (this.usage) out.push({ type: 'usage', usage: this.usage });
    out.push({ type: 'finish', reason: this.toolCalls ? 'tool-calls' : this.finish === 'MAX_TOKENS' ? 'length' : 'stop' });
    return out;
  }
}
