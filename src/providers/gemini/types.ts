/** The lines `gemini -p … -o stream-json` prints (the fields we read). */

export interface GeminiStats {
  total_tokens?: number;
  input_tokens?: number;
  output_tokens?: number;
  cached?: number;
}

export type GeminiLine =
  | { type: 'init'; session_id?: string; model?: string }
  | { type: 'message'; role: 'user' | 'assistant'; content: string; delta?: boolean }
  | { type: 'tool_use'; tool_name?: string }
  | { type: 'tool_result'; tool_id?: string }
  | { type: 'error'; message?: string }
  | { type: 'result'; status: 'success' | 'error'; error?: { type?: string; message?: string }; stats?: GeminiStats };
