/**
 * The tokenizer behind token estimates: its tables are filled by cligate (in slices, so the
 * event loop keeps serving while it is built after start-up) rather than by js-tiktoken's
 * constructor, and must encode exactly as js-tiktoken's own cl100k_base encoder does.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

type Module = typeof import('../../src/features/token-estimate.js');
/** the module with fresh state (no tokenizer built yet) */
const fresh = async (): Promise<Module> => {
  vi.resetModules();
  return import('../../src/features/token-estimate.js');
};
const turn = () => new Promise<void>((r) => setImmediate(r));

const TEXTS = [
  'Say hello.',
  'function add(a: number, b: number): number {\n  return a + b;\n}\n',
  'Ünïcödé, 日本語のテキスト, emoji 🎉🚀 and   spaces\t\ttabs\r\n',
  'lorem ipsum dolor sit amet '.repeat(200),
  'a'.repeat(31),
  `${'='.repeat(31)} heading ${'-'.repeat(31)}`,
  JSON.stringify({ tools: [{ name: 'read_file', description: 'Reads a file. '.repeat(40), parameters: { type: 'object', properties: { path: { type: 'string' } } } }] }),
  'text with <|endoftext|> in it',
  "it's 1234567 o'clock; we'll've done",
];

let stock: Tiktoken;
beforeEach(() => {
  stock ??= new Tiktoken(cl100k);
});

describe('token estimate tokenizer', () => {
  it('encodes exactly as js-tiktoken cl100k_base does', async () => {
    const m = await fresh();
    for (const t of TEXTS) expect(m.countTextTokens(t), t.slice(0, 30)).toBe(stock.encode(t, 'all').length);
    expect(m.countTextTokens('')).toBe(0);
  });

  it('warmTokenizer builds it across several turns of the event loop, not in one', async () => {
    const m = await fresh();
    m.warmTokenizer();
    expect(m.tokenizerReady()).toBe(false);
    let turnsWhileBuilding = 0;
    while (!m.tokenizerReady()) {
      await turn();
      turnsWhileBuilding++;
      expect(turnsWhileBuilding).toBeLessThan(100_000);
    }
    expect(turnsWhileBuilding).toBeGreaterThan(1);
    for (const t of TEXTS) expect(m.countTextTokens(t)).toBe(stock.encode(t, 'all').length);
  });

  it('a count asked for while the build is under way finishes it at once, with the same answer', async () => {
    const m = await fresh();
    m.warmTokenizer();
    await turn();
    expect(m.tokenizerReady()).toBe(false);
    const text = TEXTS[1]!;
    expect(m.countTextTokens(text)).toBe(stock.encode(text, 'all').length);
    expect(m.tokenizerReady()).toBe(true);
    // the slices still scheduled find it built
    for (let i = 0; i < 5; i++) await turn();
    expect(m.countTextTokens(TEXTS[2]!)).toBe(stock.encode(TEXTS[2]!, 'all').length);
  });

  it("a long text seen lately is not encoded again (a coding agent's system prompt and tools, every turn); the longest unused goes first", async () => {
    const m = await fresh();
    const encode = vi.spyOn(Tiktoken.prototype, 'encode');
    try {
      const fixture = JSON.parse(readFileSync(path.join(ROOT, 'tests/fixtures/clients/claude-code@2.1.197/first-prompt.2.json'), 'utf8'));
      const system = (fixture.request.body.system as { text: string }[]).map((b) => b.text).join('\n');
      const expected = stock.encode(system, 'all').length;
      encode.mockClear();
      expect(m.countTextTokens(system)).toBe(expected);
      expect(m.countTextTokens(system.slice(0))).toBe(expected);
      expect(encode).toHaveBeenCalledTimes(1);
      // one character more is another text
      const longer = `${system} `;
      expect(m.countTextTokens(longer)).toBe(new Tiktoken(cl100k).encode(longer, 'all').length);
      expect(encode.mock.calls.filter(([t]) => t === longer).length).toBe(2);

      // a full memo: the oldest unused goes, one used since stays
      const texts = Array.from({ length: m.MEMO_ENTRIES }, (_, i) => `${i} ${'lorem ipsum dolor sit amet '.repeat(10)}`);
      for (const t of texts) m.countTextTokens(t);
      m.countTextTokens(texts[1]!);
      m.countTextTokens(`${system}!`);
      encode.mockClear();
      m.countTextTokens(texts[1]!);
      expect(encode).not.toHaveBeenCalled();
      expect(m.countTextTokens(texts[0]!)).toBe(stock.encode(texts[0]!, 'all').length);
      expect(encode.mock.calls.filter(([t]) => t === texts[0]).length).toBe(2);
      // short texts are kept by themselves (js-tiktoken's per-call set-up costs more than a lookup)
      encode.mockClear();
      expect(m.countTextTokens('Say hello.')).toBe(3);
      expect(m.countTextTokens('Say hello.')).toBe(3);
      expect(encode).toHaveBeenCalledTimes(1);
    } finally {
      encode.mockRestore();
    }
  });

  it('a long run of letters, symbols or spaces is estimated, never handed to the encoder (its merges are quadratic: 10k spaces took 13 s)', async () => {
    const m = await fresh();
    const encode = vi.spyOn(Tiktoken.prototype, 'encode');
    try {
      const cjk = '我们今天讨论的是关于机器学习模型在生产环境中的部署问题以及如何优化推理性能和降低延迟的方法';
      // each run between texts of other classes, so the run is exactly what is estimated
      const cases: [before: string, run: string, after: string, estimate: number][] = [
        ['Here is the file: ', 'x'.repeat(100_000), ' what does it do?', 25_000],
        ['Here is the file', ' '.repeat(100_000), 'what does it do?', 25_000],
        ['Here is the file', '='.repeat(50_000), 'what does it do?', 12_500],
        ['Here is the file: ', cjk.repeat(20), ' what does it do?', cjk.length * 20],
      ];
      for (const [before, run, after, estimate] of cases) {
        const around = stock.encode(before, 'all').length + stock.encode(after, 'all').length;
        encode.mockClear();
        expect(m.countTextTokens(`${before}${run}${after}`)).toBe(around + estimate);
        // the text around the run is encoded exactly, the run itself never
        for (const [text] of encode.mock.calls) expect(/(.)\1{31}/su.test(text as string), (text as string).slice(0, 40)).toBe(false);
        expect(encode.mock.calls.map(([t]) => t)).toEqual([before, after]);
      }
    } finally {
      encode.mockRestore();
    }
  });

  it('estimateInputTokens counts system, messages, tools and images', async () => {
    const m = await fresh();
    const n = m.estimateInputTokens({
      system: 'Be brief.',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Say hello.' }, { type: 'image', mediaType: 'image/png', data: '' } as never] }],
      tools: [{ name: 'f', description: 'd', parameters: {} }] as never,
    });
    const tools = stock.encode(JSON.stringify([{ name: 'f', description: 'd', parameters: {} }]), 'all').length;
    expect(n).toBe(stock.encode('Be brief.', 'all').length + 4 + 4 + stock.encode('Say hello.', 'all').length + 1600 + tools);
  });
});
