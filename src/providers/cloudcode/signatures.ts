/**
 * Thinking signatures the upstream handed out, kept so a multi-turn tool conversation
 * can send them back even when the client dropped them (most OpenAI clients do).
 * Keyed by tool call id (Gemini puts a thoughtSignature on the functionCall part) and by
 * a hash of the thinking text (Claude signs its thinking blocks). Bounded, oldest out.
 */
import { createHash } from 'node:crypto';

/** Cloud Code's documented stand-in when a Gemini signature is missing */
export const SKIP_SIGNATURE = 'skip_thought_signature_validator';
const MAX = 20_000;

export class SignatureCache {
  private readonly map = new Map<string, string>();

  private put(key: string, sig: string): void {
    this.map.delete(key);
    this.map.set(key, sig);
    if (this.map.size > MAX) this.map.delete(this.map.keys().next().value!);
  }

  forToolCall(id: string, sig: string): void {
    this.put(`call:${id}`, sig);
  }

  forThinking(text: string, sig: string): void {
    this.put(`think:${createHash('sha256').update(text).digest('hex')}`, sig);
  }

  toolCall(id: string): string | undefined {
    return this.map.get(`call:${id}`);
  }

  thinking(text: string): string | undefined {
    return this.map.get(`think:${createHash('sha256').update(text).digest('hex')}`);
  }
}
