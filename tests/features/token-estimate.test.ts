/**
 * The tokenizer behind token estimates: its tables are filled by cligate (in slices, so the
 * event loop keeps serving while it is built after start-up) rather than by js-tiktoken's
 * constructor, and must encode exactly as js-tiktoken's own cl100k_base encoder does.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';

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
  'a'.repeat(64),
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
