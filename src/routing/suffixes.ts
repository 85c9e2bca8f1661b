/**
 * Model-name suffixes, parsed in this one place:
 *   -progress  the client wants progress markers in the stream
 *   -thinking  reasoning on, for providers that support it
 * Both may appear, in either order: "claude-sonnet-4-5-thinking-progress".
 */
export interface ParsedModel {
  base: string;
  progress: boolean;
  thinking: boolean;
}

const SUFFIXES = ['progress', 'thinking'] as const;

export function parseModelSuffixes(name: string): ParsedModel {
  let base = name;
  const found = { progress: false, thinking: false };
  for (let changed = true; changed; ) {
    changed = false;
    for (const s of SUFFIXES) {
      if (!found[s] && base.endsWith(`-${s}`) && base.length > s.length + 1) {
        base = base.slice(0, -(s.length + 1));
        found[s] = true;
        changed = true;
      }
    }
  }
  return { base, ...found };
}
