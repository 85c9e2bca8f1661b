/**
 * streamGenerateContent?alt=sse -> StreamParts. Each SSE data line is
 * {"response": {candidates:[{content:{parts}, finishReason}], usageMetadata}}.
 * Thought parts become reasoning (their signature is kept for the next turn and passed
 * on with the reasoning), functionCall parts tool calls, usage keeps the cached share
 * apart (cacheReadTokens). Each call's turn (the signed thinking before it, the call's own
 * signature) is handed to `takeTurns()` so the provider can store it before the call goes out.
 */
import { randomBytes } from 'node:crypto';
import type { StreamPart, Usage } from '../../core/stream.js';
import type { GPart } from './request.js';
import type { SignatureCache, SignatureScope, ThinkingBlock, TurnRecord } from './signatures.js';

interface Chunk {
  response?: {
    candidates?: { content?: { parts?: GPart[] }; finishReason?: string }[];
    usageMetadata?: { promptTokenCount?: number; candidatesTokenCount?: number; cachedContentTokenCount?: number; thoughtsTokenCount?: number };
  };
}

export class CloudCodeTranslator {
  /** thinking text not signed yet */
  private pending = '';
  private readonly blocks: ThinkingBlock[] = [];
  private turns: { id: string; record: TurnRecord }[] = [];
  private usage: Usage | undefined;
  private finish: string | undefined;
  toolCalls = 0;

  constructor(
    private readonly sigs: SignatureCache,
    private readonly scope: SignatureScope,
  ) {}

  private sign(signature: string): void {
    this.blocks.push({ text: this.pending, signature });
    this.pending = '';
    this.sigs.forThinking(this.scope, this.blocks);
  }

  /** the tool-call turns seen since the last call, to be stored before their calls reach the client */
  takeTurns(): { id: string; record: TurnRecord }[] {
    const t = this.turns;
    this.turns = [];
    return t;
  }

  chunk(c: Chunk): StreamPart[] {
    const out: StreamPart[] = [];
    const r = c.response ?? (c as Chunk['response']);
    const cand = r?.candidates?.[0];
    for (const p of cand?.content?.parts ?? []) {
      if (p.thought) {
        if (p.text) {
          this.pending += p.text;
          out.push({ type: 'reasoning-delta', text: p.text });
        }
        if (p.thoughtSignature) {
          this.sign(p.thoughtSignature);
          out.push({ type: 'reasoning-delta', text: '', signature: p.thoughtSignature });
        }
      } else if (p.functionCall) {
        const id = p.functionCall.id || `call_${randomBytes(12).toString('hex')}`;
        // Claude: a signature on the call with thinking still unsigned belongs to that thinking
        if (p.thoughtSignature && this.pending && this.scope.family === 'claude') {
          this.sign(p.thoughtSignature);
          out.push({ type: 'reasoning-delta', text: '', signature: p.thoughtSignature });
        }
        const thinking = this.scope.family === 'claude' ? [...this.blocks] : [];
        if (thinking.length || p.thoughtSignature) this.turns.push({ id, record: { thinking, ...(p.thoughtSignature ? { signature: p.thoughtSignature } : {}) } });
        this.toolCalls++;
        out.push({ type: 'tool-call', id, name: p.functionCall.name, arguments: JSON.stringify(p.functionCall.args ?? {}) });
      } else if (p.text) {
        // a signature on an answer part (Gemini) belongs to the thinking before it
        if (p.thoughtSignature && this.pending) this.sign(p.thoughtSignature);
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
