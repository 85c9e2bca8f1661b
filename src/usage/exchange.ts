/**
 * What one chat request exchanged, for usage and history: the last user turn, the
 * answer text as it streams (capped), tool calls, the serving account. The chat handler
 * shows it each part with `see`; nothing is kept beyond the cap.
 */
import type { ChatRequest } from '../core/request.js';
import { messageText } from '../core/request.js';
import type { StreamPart } from '../core/stream.js';

export class Exchange {
  answer = '';
  toolCalls: string[] = [];
  account?: string;
  /** ms from the exchange's start to the first answer part */
  firstTokenMs?: number;
  private readonly started = performance.now();
  readonly messages: number;
  private lastUserText?: string;

  constructor(
    private readonly req: ChatRequest,
    /** answer characters kept (0 = none: history is off) */
    private readonly keepChars: number,
  ) {
    this.messages = req.messages.length;
  }

  /** the last user turn as history shows it; worked out when read (after the answer went out) */
  get prompt(): string {
    if (!this.keepChars) return '';
    if (this.lastUserText === undefined) {
      const lastUser = [...this.req.messages].reverse().find((m) => m.role === 'user');
      const images = lastUser?.content.filter((p) => p.type === 'image').length ?? 0;
      const toolResults = lastUser?.content.filter((p) => p.type === 'tool-result').length ?? 0;
      this.lastUserText = `${lastUser ? messageText(lastUser) : ''}${images ? ` [${images} image(s)]` : ''}${toolResults ? ` [${toolResults} tool result(s)]` : ''}`.slice(0, this.keepChars + 64);
    }
    return this.lastUserText;
  }

  /** sees each part as the client gets it (a bound function: handed to collect as is) */
  readonly see = (part: StreamPart): void => {
    if (this.firstTokenMs === undefined && (part.type === 'text-delta' || part.type === 'reasoning-delta' || part.type === 'tool-call')) this.firstTokenMs = performance.now() - this.started;
    if (this.keepChars) {
      if (part.type === 'text-delta' && this.answer.length <= this.keepChars) this.answer += part.text;
      else if (part.type === 'tool-call') this.toolCalls.push(part.name);
    }
  };
}
