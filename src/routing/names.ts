/**
 * Model names as clients send them, and as each provider knows them. One model goes by
 * several spellings: Anthropic's dated ids (`claude-sonnet-4-5-20250929`), its hyphenated
 * aliases (`claude-sonnet-4-5`), Kiro's dotted names (`claude-sonnet-4.5`), Vertex's
 * `@20250929`, `-latest`. A provider claims a name when it serves any of its spellings.
 */

/** date stamps and "-latest" that pin a release of the same model */
const RELEASE = /(?:[-@]\d{8}|-latest)$/;
/** "4-5" in claude-sonnet-4-5 / claude-3-7-sonnet: a one-digit minor version after a hyphen */
const HYPHEN_VERSION = /(?<=-\d{1,2})-(?=\d(?:-|$))/g;
const DOT_VERSION = /(?<=\d)\.(?=\d)/g;

/** the spellings of one model name, the name itself first */
export function nameVariants(name: string): string[] {
  const out = [name];
  const add = (n: string) => {
    if (n && !out.includes(n)) out.push(n);
  };
  const undated = name.replace(RELEASE, '');
  add(undated);
  add(undated.replace(HYPHEN_VERSION, '.'));
  add(undated.replace(DOT_VERSION, '-'));
  return out;
}

/** true when two names are spellings of the same model */
export function sameModel(a: string, b: string): boolean {
  const va = nameVariants(a);
  return nameVariants(b).some((v) => va.includes(v));
}

/** a shell-style glob ("claude-sonnet-4-5*", "gpt-?") as a whole-name test; no "*" or "?" means the name itself */
export function globTest(pattern: string): (name: string) => boolean {
  if (!/[*?]/.test(pattern)) return (name) => name === pattern;
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  const re = new RegExp(`^${source}$`);
  return (name) => re.test(name);
}
