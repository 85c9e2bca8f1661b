/**
 * Reads tool calls out of a model's text answer. Tolerates what models really write:
 * prose around the calls, code fences around or inside the blocks, several calls,
 * a JSON array of calls, Claude's habitual <invoke> markup, "parameters"/"input" for
 * "arguments", and malformed JSON (one repair attempt with jsonrepair).
 */
import { jsonrepair } from 'jsonrepair';
import type { ToolDefinition } from '../../core/request.js';
import { UpstreamError } from '../../core/errors.js';
import { CALL_CLOSE, CALL_OPEN } from './prompt.js';

export interface ParsedCall {
  name: string;
  /** JSON text of an object */
  arguments: string;
}

export class ToolCallError extends UpstreamError {
  constructor(message: string) {
    super(message, { code: 'tool_call_invalid' });
  }
}

const FENCE = /^\s*```[\w-]*\s*\n?([\s\S]*?)\n?\s*```\s*$/;

/** without the code fence around it, if any (either fence may be missing) */
function unfence(s: string): string {
  return s
    .trim()
    .replace(/^```[\w-]*[^\S\n]*\n?/, '')
    .replace(/\n?\s*```$/, '')
    .trim();
}

/** JSON.parse, else one repair attempt; undefined when both fail */
function parseLoose(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    try {
      return JSON.parse(jsonrepair(text));
    } catch {
      return undefined;
    }
  }
}

function asCalls(value: unknown): ParsedCall[] | undefined {
  const list = Array.isArray(value)
    ? value
    : value && typeof value === 'object' && Array.isArray((value as { tool_calls?: unknown }).tool_calls)
      ? (value as { tool_calls: unknown[] }).tool_calls
      : [value];
  const calls: ParsedCall[] = [];
  for (const item of list) {
    if (!item || typeof item !== 'object') return undefined;
    const o = item as Record<string, unknown>;
    // {"function": {"name", "arguments"}} as in OpenAI's own wire format
    const fn = (o.function && typeof o.function === 'object' ? o.function : o) as Record<string, unknown>;
    if (typeof fn.name !== 'string' || !fn.name) return undefined;
    const key = ['arguments', 'parameters', 'input', 'args'].find((k) => k in fn);
    // a key whose value is null is a call cut short (a repaired truncation), not a call without arguments
    let args: unknown = key ? fn[key] : {};
    if (typeof args === 'string') args = args.trim() ? parseLoose(args) : {};
    if (!args || typeof args !== 'object' || Array.isArray(args)) return undefined;
    calls.push({ name: fn.name, arguments: JSON.stringify(args) });
  }
  return calls;
}

/** the JSON in one <tool_call> block: calls, or an error message */
function parseBlock(body: string): ParsedCall[] | string {
  const text = unfence(body);
  if (!text) return 'an empty tool_call block';
  // prose that only mentions the tag is not a call
  if (!/^[[{]/.test(text)) return [];
  const value = parseLoose(text);
  if (value === undefined) return `tool_call block is not valid JSON even after repair: ${text.slice(0, 200)}`;
  return asCalls(value) ?? `tool_call block is not {"name": …, "arguments": {…}}: ${text.slice(0, 200)}`;
}

function xmlUnescape(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

/** <invoke name="x"><parameter name="p">v</parameter></invoke>, as Claude models like to write */
function parseInvokes(text: string): ParsedCall[] {
  const calls: ParsedCall[] = [];
  for (const m of text.matchAll(/<invoke\s+name="([^"]+)"\s*>([\s\S]*?)<\/invoke>/g)) {
    const args: Record<string, unknown> = {};
    for (const p of m[2]!.matchAll(/<parameter\s+name="([^"]+)"\s*>([\s\S]*?)<\/parameter>/g)) {
      const raw = xmlUnescape(p[2]!.trim());
      const v = /^[[{]/.test(raw) ? parseLoose(raw) : undefined;
      args[p[1]!] = v ?? raw;
    }
    calls.push({ name: m[1]!, arguments: JSON.stringify(args) });
  }
  return calls;
}

export interface Extracted {
  calls: ParsedCall[];
  /** set when the text held blocks that could not be read */
  error?: string;
}

/**
 * Calls in a captured tail of the answer (it starts at the first tool_call block,
 * <function_calls>/<invoke>, or a code fence). No calls found → empty list, and the
 * caller gives the text back as ordinary answer text.
 */
export function extractCalls(text: string, toolNames: ReadonlySet<string>): Extracted {
  const calls: ParsedCall[] = [];
  if (text.includes(CALL_OPEN)) {
    const blocks = text.split(CALL_OPEN).slice(1);
    for (const raw of blocks) {
      const end = raw.indexOf(CALL_CLOSE);
      // a missing close tag at the very end is forgiven: the model stopped there
      const body = end >= 0 ? raw.slice(0, end) : raw;
      const got = parseBlock(body);
      if (typeof got === 'string') return { calls, error: got };
      calls.push(...got);
    }
    return { calls };
  }
  // without our marker, only calls to the client's own tools count: a fenced package.json
  // with a "name" is code to show, not a call
  const known = (calls: ParsedCall[] | undefined) => (calls?.length && calls.every((c) => toolNames.has(c.name)) ? calls : undefined);
  if (/<invoke\s+name="/.test(text)) return { calls: known(parseInvokes(text)) ?? [] };
  const fenced = FENCE.exec(text.trim());
  if (fenced && /"(arguments|parameters|input)"\s*:/.test(fenced[1]!)) {
    const value = parseLoose(fenced[1]!.trim());
    const got = known(value === undefined ? undefined : asCalls(value));
    if (got) return { calls: got };
  }
  return { calls: [] };
}

/** checks calls against the client's tools and tool_choice */
export function checkCalls(calls: ParsedCall[], tools: ToolDefinition[], choice: unknown): string | undefined {
  const names = new Set(tools.map((t) => t.name));
  const unknown = calls.find((c) => !names.has(c.name));
  if (unknown) return `the model called "${unknown.name}", which is not one of the tools sent (${[...names].join(', ')})`;
  if (choice && typeof choice === 'object') {
    const want = (choice as { name: string }).name;
    if (!calls.length) return `tool_choice asks for "${want}" but the model answered without calling it`;
    const other = calls.find((c) => c.name !== want);
    if (other) return `tool_choice asks for "${want}" but the model called "${other.name}"`;
  }
  if (choice === 'required' && !calls.length) return 'tool_choice is "required" but the model answered without calling a tool';
  return undefined;
}
