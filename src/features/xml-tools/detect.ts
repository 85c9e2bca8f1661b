/**
 * Does this request come from a client that wants XML-style tool use (the Roo Code /
 * Cline XML protocol: tools described in the prompt, one `<tool_name><param>…</param>
 * </tool_name>` per answer)? A confidence score over the system prompt and the
 * conversation: strong signs 3 points, medium 2, weak 1, signs of merely talking
 * about XML subtract; code blocks are removed first (XML inside them is an example,
 * not an instruction); signs in the system message count 1.5 times.
 */
import type { ChatRequest } from '../../core/request.js';

export const DEFAULT_KNOWN_TOOLS = [
  'attempt_completion', 'ask_followup_question', 'read_file', 'write_to_file', 'execute_command', 'apply_diff',
  'search_files', 'list_files', 'list_code_definition_names', 'browser_action', 'use_mcp_tool', 'access_mcp_resource',
  'insert_content', 'search_and_replace', 'replace_in_file', 'new_task', 'switch_mode', 'plan_mode_respond',
  'act_mode_respond', 'fetch_instructions', 'codebase_search', 'update_todo_list', 'new_rule', 'report_bug',
  'condense', 'load_mcp_documentation', 'run_slash_command', 'generate_image', 'apply_patch', 'edit_file', 'web_fetch',
];

interface Indicator {
  name: string;
  weight: number;
  pattern: RegExp;
}

const HIGH = 3;
const MEDIUM = 2;
const LOW = 1;
const SYSTEM_BONUS = 1.5;

const INDICATORS: Indicator[] = [
  // strong: the prompt tells the model to answer with XML tool use
  { name: 'xml-format-directive', weight: HIGH, pattern: /tool use is formatted using xml[- ]style tags|formatted (?:using|in|with) xml[- ]style tags|use (?:the )?xml (?:format|tags?) for (?:all )?tool/i },
  { name: 'mandatory-tool-use', weight: HIGH, pattern: /you must use (?:exactly )?(?:one|a|at least one) tool|one tool per message|use one tool at a time|must use a tool in (?:each|every) (?:response|message)|you must respond with a tool use/i },
  { name: 'format-spec', weight: HIGH, pattern: /<(?:actual_)?tool_name>\s*<parameter\d?_name>|<tool_name>[\s\S]{0,200}<\/tool_name>/i },
  { name: 'tool-response-format', weight: HIGH, pattern: /\[[a-z_]+(?: for '[^'\n]*')?\] result:|<environment_details>|the user will respond with the result of the tool use/i },
  // medium: tool-usage instructions and tool list headers
  { name: 'usage-instructions', weight: MEDIUM, pattern: /^\s*(?:usage|parameters):\s*$/im },
  { name: 'tool-list-header', weight: MEDIUM, pattern: /^#+\s*(?:tools|tool use|available tools|tool use guidelines)\s*$|^tool use\s*$/im },
  // weak: compound tags and vocabulary
  { name: 'compound-tag', weight: LOW, pattern: /<([a-z]+_[a-z_]+)>[\s\S]{0,2000}?<\/\1>/ },
  { name: 'tool-xml-words', weight: LOW, pattern: /\b(?:xml|tool)\b[\s\S]{0,80}\b(?:tag|tool|xml)s?\b/i },
];

const NEGATIVE: Indicator[] = [
  { name: 'xml-file-extension', weight: -HIGH, pattern: /\b[\w-]+\.(?:xml|html?|xsd|xslt?|svg|pom|plist)\b/i },
  { name: 'xml-discussion', weight: -HIGH, pattern: /\b(?:parse|parsing|parser|serialize|validate|transform)\w*\s+(?:an?\s+|the\s+|this\s+)?(?:xml|html)\b|\b(?:xpath|xslt|dom parser|lxml|elementtree|sax parser|beautifulsoup)\b/i },
  { name: 'example-context', weight: -LOW, pattern: /\b(?:for example|for instance|e\.g\.|here is an example of|such as this)\b/i },
];

export interface Detection {
  xml: boolean;
  score: number;
  /** indicator names that fired, for logs and tests */
  signs: string[];
}

/** code blocks show XML; they do not ask for it */
export function stripCode(text: string): string {
  return text.replace(/```[\s\S]*?(?:```|$)/g, ' ').replace(/`[^`\n]*`/g, ' ');
}

function score(text: string, fromSystem: boolean, known: readonly string[], seen: Map<string, number>): void {
  const factor = fromSystem ? SYSTEM_BONUS : 1;
  const add = (name: string, weight: number) => {
    const w = weight > 0 ? weight * factor : weight;
    // each sign counts once, at its strongest
    const prev = seen.get(name);
    if (prev === undefined || Math.abs(w) > Math.abs(prev)) seen.set(name, w);
  };
  for (const ind of [...INDICATORS, ...NEGATIVE]) if (ind.pattern.test(text)) add(ind.name, ind.weight);
  // known Roo/Cline tool names used as tags or headings: medium, each name once, three at most
  let names = 0;
  for (const tool of known) {
    if (names >= 3) break;
    if (new RegExp(`<${tool}>|^#+\\s*${tool}\\s*$`, 'm').test(text)) {
      add(`known-tool:${tool}`, MEDIUM);
      names++;
    }
  }
}

export function detectXmlTools(req: ChatRequest, opts: { threshold: number; knownTools: readonly string[] }): Detection {
  // a client that sends native tools wants native tool calls
  if (req.tools?.length) return { xml: false, score: 0, signs: ['native-tools'] };
  const seen = new Map<string, number>();
  if (req.system) score(stripCode(req.system), true, opts.knownTools, seen);
  for (const m of req.messages) {
    const text = m.content.map((p) => (p.type === 'text' ? p.text : '')).join('\n');
    if (text) score(stripCode(text), false, opts.knownTools, seen);
  }
  const total = [...seen.values()].reduce((a, b) => a + b, 0);
  return { xml: total >= opts.threshold, score: Math.round(total * 10) / 10, signs: [...seen.keys()] };
}

/** appended to the system prompt when the client wants XML tool use */
export const XML_INSTRUCTION = [
  '# Answer format',
  'The client reads your answer as XML tool use, exactly as the tool-use section of these instructions describes it.',
  'End every answer with exactly one tool use in that XML format: the tool name as the outer tag, each parameter as a child tag.',
  'Do not wrap it in a code fence. Do not use any built-in tool of your own and do not invent tools: only those described above exist.',
].join('\n');
