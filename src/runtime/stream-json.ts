/**
 * Claude Code's `--output-format stream-json --include-partial-messages` lines ->
 * StreamParts. Qwen Code prints the same format, so both providers use this.
 * Only the assistant's answer reaches the client: preambles before tool calls are
 * dropped by the shared PreambleFilter; API failures never become answer text
 * (Claude reports them as a synthetic message and `is_error`; Qwen as a successful
 * result whose text starts with "[API Error: <status> …").
 */
import type { StreamPart, Usage } from '../core/stream.js';
import type { CligateError } from '../core/errors.js';
import { classifyCliFailure } from './cli-errors.js';
import { PreambleFilter, parseJsonLine } from './preamble.js';
import type { ClaudeLine, ClaudeUsage } from './stream-json-types.js';

const API_ERROR_TEXT = /^\[API Error: (\d{3})?/;

export function toUsage(u: ClaudeUsage): Usage {
  const cacheRead = u.cache_read_input_tokens ?? 0;
  const cacheCreation = u.cache_creation_input_tokens ?? 0;
  return {
    // core Usage counts every prompt token; Anthropic's input_tokens excludes the cached ones
    inputTokens: (u.input_tokens ?? 0) + cacheRead + cacheCreation,
    outputTokens: u.output_tokens ?? 0,
    cacheReadTokens: cacheRead,
    cacheCreationTokens: cacheCreation,
  };
}

export class StreamJsonTranslator {
  /** the preamble hold (the runner releases it when PREAMBLE_HOLD_MS runs out) */
  readonly answer: PreambleFilter;
  private sawStreamEvents = false;
  private result?: Extract<ClaudeLine, { type: 'result' }>;

  /**
   * @param cli the CLI's name, for error messages
   * @param holdBack false when the CLI has no tools: nothing can be a preamble, so stream at once
   */
  constructor(
    private readonly cli: string,
    holdBack = true,
  ) {
    this.answer = new PreambleFilter(holdBack);
  }

  /** Feed one stdout line; returns the parts it yields. Non-JSON lines are ignored. */
  feed(raw: string): StreamPart[] {
    const line = parseJsonLine<ClaudeLine>(raw);
    if (!line) return [];
    switch (line.type) {
      case 'stream_event':
        if (line.parent_tool_use_id) return [];
        this.sawStreamEvents = true;
        return this.onEvent(line.event);
      case 'assistant': {
        // without partial messages the whole message arrives here at once
        if (this.sawStreamEvents || line.parent_tool_use_id) return [];
        // the CLI reports API failures as a synthetic assistant message; the result line carries the error
        if (line.message.model === '<synthetic>' || line.isApiErrorMessage) return [];
        if (line.message.content.some((b) => b.type === 'tool_use' || b.type === 'server_tool_use')) return [];
        const text = line.message.content.map((b) => (b.type === 'text' ? (b.text ?? '') : '')).join('');
        return [...this.answer.text(text), ...this.answer.boundary()];
      }
      case 'result':
        this.result = line;
        // the answer is complete: what is held goes now, not once the process has exited (Qwen Code
        // takes 0.3-0.5 s more to exit); an error result is for finish() to report
        return this.succeeded(line) ? this.answerNow(line) : [{ type: 'keepalive' }];
      default:
        return [{ type: 'keepalive' }];
    }
  }

  private onEvent(ev: { type: string; [k: string]: unknown }): StreamPart[] {
    switch (ev.type) {
      case 'message_start':
        return this.answer.boundary();
      case 'content_block_start': {
        const block = ev.content_block as { type: string };
        if (block.type === 'tool_use' || block.type === 'server_tool_use') this.answer.toolCall();
        else if (block.type === 'text') return this.answer.boundary();
        return [];
      }
      case 'content_block_delta': {
        const delta = ev.delta as { type: string; text?: string; thinking?: string };
        if (delta.type === 'text_delta' && delta.text) return this.answer.text(delta.text);
        if (delta.type === 'thinking_delta' && delta.thinking) return [{ type: 'reasoning-delta', text: delta.thinking }];
        return [];
      }
      case 'message_delta': {
        const stop = (ev.delta as { stop_reason?: string | null }).stop_reason;
        if (stop === 'tool_use') {
          this.answer.toolCall();
          return [];
        }
        return this.answer.boundary();
      }
      default:
        return [];
    }
  }

  /** a result that finish() turns into the answer (not an error, not an API error reported as text) */
  private succeeded(r: Extract<ClaudeLine, { type: 'result' }>): boolean {
    return !r.is_error && !API_ERROR_TEXT.test(r.result ?? '');
  }

  /** what is held, or the result's text when no answer text came as it was written */
  private answerNow(r: Extract<ClaudeLine, { type: 'result' }>): StreamPart[] {
    const parts = this.answer.flush();
    if (!this.answer.emittedText && r.result) parts.push(...this.answer.text(r.result), ...this.answer.flush());
    return parts.length ? parts : [{ type: 'keepalive' }];
  }

  /** Parts that end the stream, or the error the run amounts to. */
  finish(exit: { exitCode: number | null; stderr: string }): { parts: StreamPart[]; error?: CligateError } {
    const r = this.result;
    const apiError = r && !r.is_error ? API_ERROR_TEXT.exec(r.result ?? '') : null;
    if (r && apiError) {
      return { parts: [], error: classifyCliFailure(this.cli, r.result ?? '', apiError[1] ? Number(apiError[1]) : undefined) };
    }
    if (r && !r.is_error) {
      const parts: StreamPart[] = [...this.answer.flush()];
      if (!this.answer.emittedText && r.result) parts.push({ type: 'text-delta', text: r.result });
      if (r.usage) parts.push({ type: 'usage', usage: toUsage(r.usage) });
      parts.push({ type: 'finish', reason: 'stop' });
      return { parts };
    }
    if (r?.is_error) {
      return { parts: [], error: classifyCliFailure(this.cli, r.result ?? r.subtype, r.api_error_status) };
    }
    const message = exit.stderr || `exited with code ${exit.exitCode} before giving an answer`;
    return { parts: [], error: classifyCliFailure(this.cli, message) };
  }
}
