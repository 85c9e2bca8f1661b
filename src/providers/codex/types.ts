/** The lines `codex exec --json` prints (the fields we read). */
export type CodexLine =
  | { type: 'thread.started'; thread_id?: string }
  | { type: 'turn.started' }
  | { type: 'item.started' | 'item.updated' | 'item.completed'; item: { id?: string; type: string; text?: string; message?: string } }
  | { type: 'turn.completed'; usage?: { input_tokens?: number; cached_input_tokens?: number; output_tokens?: number; reasoning_output_tokens?: number } }
  | { type: 'turn.failed'; error?: { message?: string } }
  | { type: 'error'; message?: string };
