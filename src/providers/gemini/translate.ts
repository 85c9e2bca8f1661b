/** `gemini -p … -o stream-json` lines -> StreamParts. */
import type { StreamPart } from '../../core/stream.js';
import type { CligateError } from '../../core/errors.js';
import { classifyCliFailure } from '../../runtime/cli-errors.js';
import { PreambleFilter, parseJsonLine } from '../../runtime/preamble.js';
import type { GeminiLine, GeminiStats } from './types.js';

/** the upstream HTTP status inside messages like `[API Error: {"error":{"code":401,…}}]` */
function upstreamStatus(message: string): number | undefined {
  const m = /"code"\s*:\s*(\d{3})/.exec(message) ?? /\b(?:status|code)\s*:?\s*(\d{3})\b/i.exec(message);
  return m ? Number(m[1]) : undefined;
}

export function statsToUsage(s: GeminiStats) {
  return {
    // Gemini's prompt count already includes cached tokens, as core Usage does
    inputTokens: s.input_tokens ?? 0,
    outputTokens: s.output_tokens ?? 0,
    cacheReadTokens: s.cached ?? 0,
  };
}

export class GeminiStreamTranslator {
  /** the preamble hold (the runner releases it when PREAMBLE_HOLD_MS runs out) */
  readonly answer: PreambleFilter;
  private result?: Extract<GeminiLine, { type: 'result' }>;

  constructor(holdBack: boolean) {
    this.answer = new PreambleFilter(holdBack);
  }

  feed(raw: string): StreamPart[] {
    const line = parseJsonLine<GeminiLine>(raw);
    if (!line) return [];
    switch (line.type) {
      case 'message':
        return line.role === 'assistant' ? this.answer.text(line.content) : [];
      case 'tool_use':
        this.answer.toolCall();
        return [{ type: 'keepalive' }];
      case 'result':
        this.result = line;
        // the answer is complete: what is held goes now, not once the process has exited (~100 ms later)
        return line.status === 'success' ? this.answer.flush() : [];
      default:
        return [{ type: 'keepalive' }];
    }
  }

  finish(exit: { exitCode: number | null; stderr: string }): { parts: StreamPart[]; error?: CligateError } {
    const r = this.result;
    if (r?.status === 'success') {
      const parts: StreamPart[] = [...this.answer.flush()];
      if (r.stats) parts.push({ type: 'usage', usage: statsToUsage(r.stats) });
      parts.push({ type: 'finish', reason: 'stop' });
      return { parts };
    }
    const message = r?.error?.message ?? (exit.stderr || `exited with code ${exit.exitCode} before giving an answer`);
    return { parts: [], error: classifyCliFailure('gemini', message, upstreamStatus(message)) };
  }
}
