/**
 * ChatRequest -> `claude -p` arguments and prompt; stream-json lines -> StreamParts.
 *
 * Only the assistant's answer reaches the client. With web tools allowed the model
 * may write a preamble ("Let me search…") before a tool call: text of a block is held
 * back until we know it is not followed by a tool call in the same message, or until
 * it grows past HOLD_CHARS (then it is clearly the answer and streams live).
 */
import type { StreamPart, Usage } from '../../core/stream.js';
import type { CligateError } from '../../core/errors.js';
import { classifyCliFailure } from '../../runtime/cli-errors.js';
import type { ClaudeLine, ClaudeUsage } from './types.js';

const HOLD_CHARS = 240;

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

export class ClaudeStreamTranslator {
  /** @param holdBack false when the CLI has no tools: nothing can be a preamble, so stream at once */
  constructor(private readonly holdBack = true) {}

  private held = '';
  private live = false;
  private sawStreamEvents = false;
  private emittedText = false;
  private result?: Extract<ClaudeLine, { type: 'result' }>;

  /** the `result` line, once seen */
  get final(): Extract<ClaudeLine, { type: 'result' }> | undefined {
    return this.result;
  }

  /** Feed one stdout line; returns the parts it yields. Non-JSON lines are ignored. */
  feed(raw: string): StreamPart[] {
    const line = parseLine(raw);
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
        return this.text(text);
      }
      case 'result':
        this.result = line;
        return [{ type: 'keepalive' }];
      default:
        return [{ type: 'keepalive' }];
    }
  }

  private onEvent(ev: { type: string; [k: string]: unknown }): StreamPart[] {
    switch (ev.type) {
      case 'message_start':
        this.held = '';
        this.live = false;
        return [];
      case 'content_block_start': {
        const block = ev.content_block as { type: string };
        if (block.type === 'tool_use' || block.type === 'server_tool_use') {
          this.held = ''; // the held text was a preamble to a tool call
          this.live = false;
        } else if (block.type === 'text') {
          return this.flush();
        }
        return [];
      }
      case 'content_block_delta': {
        const delta = ev.delta as { type: string; text?: string; thinking?: string };
        if (delta.type === 'text_delta' && delta.text) return this.hold(delta.text);
        if (delta.type === 'thinking_delta' && delta.thinking) return [{ type: 'reasoning-delta', text: delta.thinking }];
        return [];
      }
      case 'message_delta': {
        const stop = (ev.delta as { stop_reason?: string | null }).stop_reason;
        if (stop === 'tool_use') {
          this.held = '';
          return [];
        }
        return this.flush();
      }
      default:
        return [];
    }
  }

  private hold(text: string): StreamPart[] {
    if (this.live || !this.holdBack) return this.text(text);
    this.held += text;
    if (this.held.length > HOLD_CHARS) {
      this.live = true;
      return this.flush();
    }
    return [{ type: 'keepalive' }];
  }

  private flush(): StreamPart[] {
    const text = this.held;
    this.held = '';
    return text ? this.text(text) : [];
  }

  private text(text: string): StreamPart[] {
    if (!text) return [];
    this.emittedText = true;
    return [{ type: 'text-delta', text }];
  }

  /** Parts that end the stream, or the error the run amounts to. */
  finish(exit: { exitCode: number | null; stderr: string }): { parts: StreamPart[]; error?: CligateError } {
    const r = this.result;
    if (r && !r.is_error) {
      const parts: StreamPart[] = [...this.flush()];
      if (!this.emittedText && r.result) parts.push(...this.text(r.result));
      if (r.usage) parts.push({ type: 'usage', usage: toUsage(r.usage) });
      parts.push({ type: 'finish', reason: 'stop' });
      return { parts };
    }
    if (r?.is_error) {
      return { parts: [], error: classifyCliFailure('claude', r.result ?? r.subtype, r.api_error_status) };
    }
    const message = exit.stderr || `exited with code ${exit.exitCode} before giving an answer`;
    return { parts: [], error: classifyCliFailure('claude', message) };
  }
}

function parseLine(raw: string): ClaudeLine | undefined {
  const s = raw.trim();
  if (!s.startsWith('{')) return undefined;
  try {
    const v = JSON.parse(s) as ClaudeLine;
    return typeof v === 'object' && v !== null && typeof v.type === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}
