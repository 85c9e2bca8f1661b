/** The lines `claude -p --output-format stream-json --verbose` (and `qwen -o stream-json`) print: the fields we read. */

export interface ClaudeUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_read_input_tokens?: number;
  cache_creation_input_tokens?: number;
}

/** One Anthropic Messages SSE event, forwarded by `--include-partial-messages`. */
export type AnthropicStreamEvent =
  | { type: 'message_start'; message: { usage?: ClaudeUsage } }
  | { type: 'content_block_start'; index: number; content_block: { type: string; text?: string } }
  | {
      type: 'content_block_delta';
      index: number;
      delta: { type: 'text_delta'; text: string } | { type: 'thinking_delta'; thinking: string } | { type: string };
    }
  | { type: 'content_block_stop'; index: number }
  | { type: 'message_delta'; delta: { stop_reason?: string | null }; usage?: ClaudeUsage }
  | { type: 'message_stop' }
  | { type: string };

export type ClaudeLine =
  | { type: 'system'; subtype: string; session_id?: string; model?: string }
  | { type: 'stream_event'; event: AnthropicStreamEvent; parent_tool_use_id?: string | null }
  | {
      type: 'assistant';
      message: { model?: string; content: { type: string; text?: string; thinking?: string }[]; stop_reason?: string | null };
      parent_tool_use_id?: string | null;
      isApiErrorMessage?: boolean;
    }
  | { type: 'user'; message: unknown }
  | {
      type: 'result';
      subtype: string;
      is_error: boolean;
      result?: string;
      api_error_status?: number | null;
      usage?: ClaudeUsage;
      session_id?: string;
      duration_ms?: number;
    };
