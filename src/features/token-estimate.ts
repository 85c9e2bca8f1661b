/**
 * Token estimates for count-tokens endpoints and for usage a provider has not
 * reported yet (Anthropic's message_start must not say 0). A real BPE tokenizer
 * (cl100k_base, via js-tiktoken) over everything the model will read: system,
 * every message part, tool definitions, plus the per-message framing overhead.
 */
import { hash } from 'node:crypto';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import type { ChatRequest, ContentPart } from '../core/request.js';

/**
 * js-tiktoken's lookup table for encoding (a field its constructor fills; not in its type
 * declarations). Its constructor takes 0.3–0.5 s of CPU in one piece (more on a loaded machine),
 * which held back whatever request came first after the server started listening, /health
 * included; the table is filled here instead, the same entries (tests/features/token-estimate.test.ts
 * compares the encodings), in slices between which the event loop serves requests. Only
 * encode() is used: decode()'s table (textMap, ~8 MB of small buffers) is left empty.
 */
interface Tables {
  rankMap: Map<string, number>;
}

/** a slice of the build: this long at most before other work gets a turn */
const SLICE_MS = 8;

let encoder: Tiktoken | undefined;
let building: { tk: Tiktoken; entries: Generator<[rank: number, token: string]> } | undefined;
let warming = false;

/** cl100k_base's ranks: lines of `<unused> <first rank> <token, base64> <token> ...` */
function* rankEntries(bpeRanks: string): Generator<[number, string]> {
  for (const line of bpeRanks.split('\n')) {
    if (!line) continue;
    const fields = line.split(' ');
    const first = Number.parseInt(fields[1]!, 10);
    for (let i = 2; i < fields.length; i++) yield [first + i - 2, fields[i]!];
  }
}

/** fills the table for up to `budgetMs`; the encoder once it is complete */
function advance(budgetMs: number): Tiktoken | undefined {
  building ??= { tk: new Tiktoken({ ...cl100k, bpe_ranks: '' }), entries: rankEntries(cl100k.bpe_ranks) };
  const { tk, entries } = building;
  const { rankMap } = tk as unknown as Tables;
  const until = performance.now() + budgetMs;
  for (let n = 1; ; n++) {
    const next = entries.next();
    if (next.done) {
      building = undefined;
      return (encoder = tk);
    }
    const [rank, token] = next.value;
    rankMap.set(Buffer.from(token, 'base64').join(','), rank);
    if (n % 512 === 0 && performance.now() > until) return undefined;
  }
}

/** the encoder: what is left of the build is done now if it is not complete */
const enc = (): Tiktoken => encoder ?? advance(Infinity)!;

/** whether the tokenizer is built (for tests) */
export const tokenizerReady = (): boolean => encoder !== undefined;

/** per message: role and separators, as chat formats frame a turn */
const MESSAGE_OVERHEAD = 4;
/** an image the size vision models usually scale to (about 1.15 megapixels) */
const IMAGE_TOKENS = 1600;

/**
 * Counts of long texts seen lately, by digest. A coding agent sends its system prompt, its tools
 * and every earlier turn again with each request: Claude Code's first request is ~90 kB, 17k tokens,
 * which took the encoder 50-60 ms of the event loop before message_start could go out; a digest
 * of it takes ~0.1 ms.
 */
export const MEMO_MIN_CHARS = 256;
export const MEMO_ENTRIES = 4096;
const byDigest = new Map<string, number>();

/**
 * Runs cl100k's pre-tokenizer would make one piece of: letters, other symbols, or whitespace.
 * js-tiktoken merges a piece in time quadratic in its bytes, at a high constant: 10,000 spaces
 * or x's took 13 s, 40,000 took 172 s, 128 Chinese characters without punctuation 20 ms, all of
 * it blocking the event loop and every stream on it. Such runs are estimated instead (a token
 * per 4 ASCII characters, one per other character: cl100k gives Chinese ~1.1); ordinary words
 * and code stay well under this length and are encoded exactly.
 */
export const LONG_RUN_CHARS = 32;
const LONG_RUN = new RegExp(`\\p{L}{${LONG_RUN_CHARS},}|[^\\s\\p{L}\\p{N}]{${LONG_RUN_CHARS},}|\\s{${LONG_RUN_CHARS},}`, 'gu');

function runEstimate(run: string): number {
  let ascii = 0;
  for (let i = 0; i < run.length; i++) if (run.charCodeAt(i) < 0x80) ascii++;
  return Math.ceil(ascii / 4) + (run.length - ascii);
}

function encodeCount(text: string): number {
  let count = 0;
  let at = 0;
  for (const m of text.matchAll(LONG_RUN)) {
    if (m.index > at) count += enc().encode(text.slice(at, m.index), 'all').length;
    count += runEstimate(m[0]);
    at = m.index + m[0].length;
  }
  return at < text.length ? count + enc().encode(text.slice(at), 'all').length : count;
}

/**
 * Short texts are kept by themselves: js-tiktoken builds its regular expressions anew on every
 * call (~5 µs, 3% of a relayed stream's CPU), and short texts repeat (a title prompt, "continue").
 */
const byText = new Map<string, number>();

/** a count from `map` by `key`, else counted and kept; the least recently used goes when it is full */
function remembered(map: Map<string, number>, key: string, text: string): number {
  const known = map.get(key);
  if (known !== undefined) {
    map.delete(key);
    map.set(key, known);
    return known;
  }
  const count = encodeCount(text);
  map.set(key, count);
  if (map.size > MEMO_ENTRIES) map.delete(map.keys().next().value!);
  return count;
}

export function countTextTokens(text: string): number {
  if (!text) return 0;
  return text.length < MEMO_MIN_CHARS ? remembered(byText, text, text) : remembered(byDigest, hash('sha1', text), text);
}

function partText(p: ContentPart): string {
  switch (p.type) {
    case 'text':
    case 'reasoning':
      return p.text;
    case 'tool-call':
      return `${p.name} ${p.arguments}`;
    case 'tool-result':
      return p.content;
    case 'image':
      return '';
  }
}

export function estimateInputTokens(req: Pick<ChatRequest, 'system' | 'messages' | 'tools'>): number {
  let tokens = req.system ? countTextTokens(req.system) + MESSAGE_OVERHEAD : 0;
  for (const msg of req.messages) {
    tokens += MESSAGE_OVERHEAD;
    for (const part of msg.content) tokens += part.type === 'image' ? IMAGE_TOKENS : countTextTokens(partText(part));
  }
  if (req.tools?.length) tokens += countTextTokens(JSON.stringify(req.tools));
  return Math.max(1, tokens);
}

/**
 * Builds the tokenizer now, in slices of the event loop (about 0.2 s of CPU in all), instead of
 * in the first request that needs an estimate, where it held back Anthropic's message_start.
 */
export function warmTokenizer(): void {
  if (encoder || warming) return;
  warming = true;
  const slice = () => {
    if (!encoder && !advance(SLICE_MS)) setImmediate(slice).unref();
  };
  slice();
}
