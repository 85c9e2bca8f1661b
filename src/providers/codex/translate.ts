/**
 * `codex exec --json` lines -> StreamParts. Codex reports each agent message whole
 * (item.completed), not token by token; a message followed by a tool item (web
 * search) was a preamble and is dropped.
 */
import type { StreamPart } from '../../core/stream.js';
import type { CligateError } from '../../core/errors.js';
import { classifyCliFailure } from '../../runtime/cli-errors.js';
import { PreambleFilter, parseJsonLine } from '../../runtime/preamble.js';
import type { CodexLine } from './types.js';

/** "unexpected status 401 Unauthorized: …" / "last status: 429 Too Many Requests" */
function upstreamStatus(message: string): number | undefined {
  const m = /status:?\s*(\d{3})\b/i.exec(message);
  return m ? Number(m[1]) : undefined;
}

export class CodexStreamTranslator {
  /** the preamble hold (the runner releases it when PREAMBLE_HOLD_MS runs out) */
  readonly answer = new PreambleFilter(true);
  private done?: Extract<CodexLine, { type: 'turn.completed' }>;
  private failed?: string;
  private lastError?: string;

  feed(raw: string): StreamPart[] {
    const line = parseJsonLine<CodexLine>(raw);
    if (!line) return [];
    switch (line.type) {
      case 'item.completed':
        if (line.item.type === 'agent_message') return this.answer.text(line.item.text ?? '');
        if (line.item.type === 'reasoning' && line.item.text) return [{ type: 'reasoning-delta', text: line.item.text }];
        if (line.item.type !== 'error') this.answer.toolCall(); // web_search and the like: what was held was a preamble
        return [{ type: 'keepalive' }];
      case 'item.started':
        if (line.item.type !== 'agent_message' && line.item.type !== 'reasoning') this.answer.toolCall();
        return [{ type: 'keepalive' }];
      case 'turn.completed':
        this.done = line;
        // the turn is over, no tool call can follow: what is held goes now, not once the process has exited (~100 ms later)
        return this.failed ? [] : this.answer.flush();
      case 'turn.failed':
        this.failed = line.error?.message ?? 'turn failed';
        return [];
      case 'error':
        this.lastError = line.message;
        return [{ type: 'keepalive' }];
      default:
        return [{ type: 'keepalive' }];
    }
  }

  finish(exit: { exitCode: number | null; stderr: string }): { parts: StreamPart[]; error?: CligateError } {
    if (this.done && !this.failed) {
      const u = this.done.usage ?? {};
      return {
        parts: [
          ...this.answer.flush(),
          // the Responses API counts cached tokens inside input_tokens, as core Usage does
          { type: 'usage', usage: { inputTokens: u.input_tokens ?? 0, outputTokens: u.output_tokens ?? 0, cacheReadTokens: u.cached_input_tokens ?? 0 } },
          { type: 'finish', reason: 'stop' },
        ],
      };
    }
    const message = this.failed ?? this.lastError ?? (exit.stderr || `exited with code ${exit.exitCode} before giving an answer`);
    return { parts: [], error: classifyCliFailure('codex', message, upstreamStatus(message)) };
  }
}
