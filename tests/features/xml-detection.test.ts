/**
 * The XML tool-format detector against a labelled corpus (tests/fixtures/xml-detection):
 * real Roo/Cline-family prompts that want XML tool use, and adversarial requests that
 * only show or discuss XML. Prints each score and the precision/recall.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ChatRequest, ToolDefinition } from '../../src/core/request.js';
import { DEFAULT_KNOWN_TOOLS, detectXmlTools, stripCode } from '../../src/features/xml-tools/detect.js';

const DIR = path.resolve(import.meta.dirname, '../fixtures/xml-detection');
interface Case {
  file: string;
  want: boolean;
  req: ChatRequest;
}

function load(label: 'positive' | 'negative'): Case[] {
  return readdirSync(path.join(DIR, label))
    .filter((f) => f.endsWith('.json'))
    .map((file) => {
      const c = JSON.parse(readFileSync(path.join(DIR, label, file), 'utf8')) as { system?: string; messages: { role: 'user' | 'assistant'; content: string }[]; tools?: ToolDefinition[] };
      const req: ChatRequest = {
        model: 'm',
        stream: false,
        ...(c.system ? { system: c.system } : {}),
        ...(c.tools ? { tools: c.tools } : {}),
        messages: c.messages.map((m) => ({ role: m.role, content: [{ type: 'text', text: m.content }] })),
      };
      return { file: `${label}/${file}`, want: label === 'positive', req };
    });
}

const cases = [...load('positive'), ...load('negative')];
const opts = { threshold: 5, knownTools: DEFAULT_KNOWN_TOOLS };

describe('XML tool-format detection corpus', () => {
  it('has enough of both kinds to mean something', () => {
    expect(cases.filter((c) => c.want).length).toBeGreaterThanOrEqual(12);
    expect(cases.filter((c) => !c.want).length).toBeGreaterThanOrEqual(15);
  });

  it('precision and recall at the default threshold', () => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    const rows: string[] = [];
    for (const c of cases) {
      const d = detectXmlTools(c.req, opts);
      if (d.xml && c.want) tp++;
      if (d.xml && !c.want) fp++;
      if (!d.xml && c.want) fn++;
      rows.push(`${d.xml === c.want ? 'ok ' : 'BAD'} ${String(d.score).padStart(6)}  ${c.file}  [${d.signs.join(', ')}]`);
    }
    const precision = tp / (tp + fp || 1);
    const recall = tp / (tp + fn || 1);
    console.log(`${rows.join('\n')}\nprecision ${precision.toFixed(3)}  recall ${recall.toFixed(3)}  (tp ${tp}, fp ${fp}, fn ${fn})`);
    expect(precision).toBeGreaterThanOrEqual(0.95);
    expect(recall).toBeGreaterThanOrEqual(0.9);
  });

  it('every case is on the right side of the threshold', () => {
    for (const c of cases) expect(detectXmlTools(c.req, opts).xml, c.file).toBe(c.want);
  });

  it('code blocks are removed before scoring', () => {
    expect(stripCode('a\n```xml\n<read_file><path>x</path></read_file>\n```\nb `<attempt_completion>` c')).not.toMatch(/read_file|attempt_completion/);
  });

  it('native tools in the request always win', () => {
    const positive = cases.find((c) => c.want)!;
    expect(detectXmlTools({ ...positive.req, tools: [{ name: 'read_files' }] }, opts)).toMatchObject({ xml: false, signs: ['native-tools'] });
  });
});
