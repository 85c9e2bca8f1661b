/**
 * Model-name suffixes, parsed in this one place:
 *   -progress       the client wants progress markers in the stream
 *   -chat-progress  the same, as clis-wrapper spelled it (its "chat mode with progress markers";
 *                   cligate always runs CLIs the way clis-wrapper's chat mode did)
 *   -thinking       reasoning on, for providers that support it (THINKING_SUFFIX may rename it)
 * Both may appear, in either order: "claude-sonnet-4-5-thinking-progress".
 * clis-wrapper's bare "-chat" is not parsed: real models end in it (deepseek-chat, gpt-5-chat).
 * As in clis-wrapper, "-chat-progress" is read before "-progress", so "deepseek-chat-progress" is
 * deepseek with markers; deepseek-chat with markers is "deepseek-chat-chat-progress".
 */
export interface ParsedModel {
  base: string;
  progress: boolean;
  thinking: boolean;
}

export const DEFAULT_THINKING_SUFFIX = '-thinking';

/** the spellings of the progress suffix, longest first (so "-chat-progress" is not read as "-progress") */
export const PROGRESS_SUFFIXES = ['-chat-progress', '-progress'] as const;

export function parseModelSuffixes(name: string, thinkingSuffix = DEFAULT_THINKING_SUFFIX): ParsedModel {
  const suffixes = { progress: PROGRESS_SUFFIXES, thinking: [thinkingSuffix] } as const;
  let base = name;
  const found = { progress: false, thinking: false };
  for (let changed = true; changed; ) {
    changed = false;
    for (const key of ['progress', 'thinking'] as const) {
      if (found[key]) continue;
      const s = suffixes[key].find((x) => x && base.endsWith(x) && base.length > x.length);
      if (s) {
        base = base.slice(0, -s.length);
        found[key] = true;
        changed = true;
      }
    }
  }
  return { base, ...found };
}
