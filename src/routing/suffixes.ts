/**
 * Model-name suffixes, parsed in this one place:
 *   -progress  the client wants progress markers in the stream
 *   -thinking  reasoning on, for providers that support it (THINKING_SUFFIX may rename it)
 * Both may appear, in either order: "claude-sonnet-4-5-thinking-progress".
 */
export interface ParsedModel {
  base: string;
  progress: boolean;
  thinking: boolean;
}

export const DEFAULT_THINKING_SUFFIX = '-thinking';

export function parseModelSuffixes(name: string, thinkingSuffix = DEFAULT_THINKING_SUFFIX): ParsedModel {
  const suffixes = { progress: '-progress', thinking: thinkingSuffix } as const;
  let base = name;
  const found = { progress: false, thinking: false };
  for (let changed = true; changed; ) {
    changed = false;
    for (const key of ['progress', 'thinking'] as const) {
      const s = suffixes[key];
      if (s && !found[key] && base.endsWith(s) && base.length > s.length) {
        base = base.slice(0, -s.length);
        found[key] = true;
        changed = true;
      }
    }
  }
  return { base, ...found };
}
