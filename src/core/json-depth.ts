/**
 * How deeply a JSON text nests, found without parsing it. JSON.parse copes with any depth,
 * but everything after it (validation, JSON.stringify, rendering a transcript) recurses and
 * would overflow the stack on a body nested tens of thousands deep.
 */
export const MAX_JSON_DEPTH = 128;

export function jsonDepth(text: string | Uint8Array): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  let escaped = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = typeof text === 'string' ? text.charCodeAt(i) : text[i]!;
    if (inString) {
      if (escaped) escaped = false;
      else if (c === 0x5c) escaped = true;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) max = depth;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}
