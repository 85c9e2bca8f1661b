/** Cloud Code requests: the current tool loop completed from the signature cache, or thinking off. */
import { describe, expect, it } from 'vitest';
import type { ChatMessage, ChatRequest } from '../../../src/core/request.js';
import { buildInner, restoreToolLoop, scopeOf, toolLoop, type GContent } from '../../../src/providers/cloudcode/request.js';
import { SignatureCache, SKIP_SIGNATURE } from '../../../src/providers/cloudcode/signatures.js';
import { CloudCodeTranslator } from '../../../src/providers/cloudcode/translate.js';

const call = (id: string): ChatMessage => ({ role: 'assistant', content: [{ type: 'text', text: `calling ${id}` }, { type: 'tool-call', id, name: 'lookup', arguments: '{}' }] });
const result = (id: string): ChatMessage => ({ role: 'tool', content: [{ type: 'tool-result', toolCallId: id, name: 'lookup', content: 'ok' }] });
const user = (text: string): ChatMessage => ({ role: 'user', content: [{ type: 'text', text }] });
const request = (model: string, messages: ChatMessage[]): ChatRequest => ({ model, messages, stream: true, sessionKey: 'conv' });

async function build(req: ChatRequest, sigs: SignatureCache) {
  const inner = buildInner(req, sigs);
  const errors: Error[] = [];
  const restored = await restoreToolLoop(inner, req, sigs, scopeOf(req), (e) => errors.push(e));
  return { inner: inner as { contents: GContent[]; generationConfig: Record<string, unknown> }, restored, errors };
}

describe('the current tool loop', () => {
  it('is the model turns after the last user turn that is more than tool results', () => {
    const contents: GContent[] = [
      { role: 'user', parts: [{ text: 'a' }] },
      { role: 'model', parts: [{ text: 'old' }] },
      { role: 'user', parts: [{ text: 'b' }] },
      { role: 'model', parts: [{ text: 'one' }] },
      { role: 'user', parts: [{ functionResponse: { name: 'f', response: {} } }, { text: 'a reminder beside the result' }] },
      { role: 'model', parts: [{ text: 'two' }] },
      { role: 'user', parts: [{ functionResponse: { name: 'f', response: {} } }] },
    ];
    expect(toolLoop(contents).map((c) => c.parts[0]!.text)).toEqual(['one', 'two']);
  });
});

describe('restoreToolLoop (Claude, thinking on)', () => {
  const MODEL = 'claude-sonnet-4-5-thinking';

  it('gives each tool-call turn of the loop its signed thinking back, first in the turn', async () => {
    const sigs = new SignatureCache();
    const scope = scopeOf(request(MODEL, []));
    await sigs.saveTurn(scope, ['t1'], { thinking: [{ text: 'think 1', signature: 's1' }] });
    await sigs.saveTurn(scope, ['t2a', 't2b'], {
      thinking: [
        { text: 'think 2a', signature: 's2a' },
        { text: 'think 2b', signature: 's2b' },
      ],
    });
    const { inner, restored } = await build(request(MODEL, [user('go'), call('t1'), result('t1'), { role: 'assistant', content: [...call('t2a').content, { type: 'tool-call', id: 't2b', name: 'lookup', arguments: '{}' }] }, result('t2a'), result('t2b')]), sigs);
    expect(restored).toEqual({ thinking: 2, calls: 0 });
    expect(inner.generationConfig.thinkingConfig).toBeDefined();
    expect(inner.contents[1]!.parts).toEqual([{ text: 'think 1', thought: true, thoughtSignature: 's1' }, { text: 'calling t1' }, { functionCall: { name: 'lookup', args: {}, id: 't1' } }]);
    expect(inner.contents[3]!.parts.slice(0, 3)).toEqual([{ text: 'think 2a', thought: true, thoughtSignature: 's2a' }, { text: 'think 2b', thought: true, thoughtSignature: 's2b' }, { text: 'calling t2a' }]);
  });

  it('keeps thinking the client sent back signed; replaces a signature sent without its text', async () => {
    const sigs = new SignatureCache();
    await sigs.saveTurn(scopeOf(request(MODEL, [])), ['t1'], { thinking: [{ text: 'the text', signature: 's1' }] });
    const kept = await build(request(MODEL, [user('go'), { role: 'assistant', content: [{ type: 'reasoning', text: 'client text', signature: 'client-sig' }, ...call('t1').content] }, result('t1')]), sigs);
    expect(kept.restored.thinking).toBe(0);
    expect(kept.inner.contents[1]!.parts[0]).toEqual({ text: 'client text', thought: true, thoughtSignature: 'client-sig' });
    // Responses without summaries: encrypted_content, no text
    const replaced = await build(request(MODEL, [user('go'), { role: 'assistant', content: [{ type: 'reasoning', text: '', signature: 's1' }, ...call('t1').content] }, result('t1')]), sigs);
    expect(replaced.restored.thinking).toBe(1);
    expect(replaced.inner.contents[1]!.parts[0]).toEqual({ text: 'the text', thought: true, thoughtSignature: 's1' });
  });

  it('does not look up turns before the current loop', async () => {
    const sigs = new SignatureCache();
    const looked: string[] = [];
    const turn = sigs.turn.bind(sigs);
    sigs.turn = async (scope, id) => (looked.push(id), turn(scope, id));
    await sigs.saveTurn(scopeOf(request(MODEL, [])), ['now'], { thinking: [{ text: 't', signature: 's' }] });
    await build(request(MODEL, [user('first'), call('old'), result('old'), { role: 'assistant', content: [{ type: 'text', text: 'done' }] }, user('second'), call('now'), result('now')]), sigs);
    expect(looked).toEqual(['now']);
  });

  it('nothing to restore: thinking off for the request, every thought part left out', async () => {
    const sigs = new SignatureCache();
    const scope = scopeOf(request(MODEL, []));
    await sigs.saveTurn(scope, ['known'], { thinking: [{ text: 'known', signature: 'sk' }] });
    const req = { ...request(MODEL, [user('go'), call('known'), result('known'), call('lost'), result('lost')]), maxTokens: 4096 };
    const { inner, restored } = await build(req, sigs);
    expect(restored.thinkingOff).toContain('contents[3]');
    expect(inner.generationConfig.thinkingConfig).toBeUndefined();
    expect(inner.generationConfig.maxOutputTokens).toBe(4096);
    expect(JSON.stringify(inner.contents)).not.toContain('"thought"');
    expect(inner.contents.map((c) => c.role)).toEqual(['user', 'model', 'user', 'model', 'user']);
  });

  it('a failed shared look-up is reported and counts as not found', async () => {
    const sigs = new SignatureCache();
    sigs.turn = async () => {
      throw new Error('redis down');
    };
    const { restored, errors } = await build(request(MODEL, [user('go'), call('t1'), result('t1')]), sigs);
    expect(errors.map((e) => e.message)).toEqual(['redis down']);
    expect(restored.thinkingOff).toBeDefined();
  });

  it('a Claude model without thinking needs nothing', async () => {
    const { inner, restored } = await build(request('claude-sonnet-4-5', [user('go'), call('t1'), result('t1')]), new SignatureCache());
    expect(restored).toEqual({ thinking: 0, calls: 0 });
    expect(inner.generationConfig.thinkingConfig).toBeUndefined();
  });
});

describe('restoreToolLoop (Gemini)', () => {
  const MODEL = 'gemini-3-pro-high';

  it("a call of the loop gets its own signature (another instance's too); one never seen keeps the skip sentinel", async () => {
    const redis = new Map<string, unknown>();
    const shared = { kind: 'redis', getJson: async (k: string) => redis.get(k), setJson: async (k: string, v: unknown) => void redis.set(k, v) } as never;
    await new SignatureCache({ shared }).saveTurn(scopeOf(request(MODEL, [])), ['g1'], { thinking: [], signature: 'fsig-1' });
    const { inner, restored } = await build(request(MODEL, [user('go'), { role: 'assistant', content: [...call('g1').content, { type: 'tool-call', id: 'g2', name: 'lookup', arguments: '{}' }] }, result('g1'), result('g2')]), new SignatureCache({ shared }));
    expect(restored).toEqual({ thinking: 0, calls: 1 });
    const calls = inner.contents[1]!.parts.filter((p) => p.functionCall);
    expect(calls.map((p) => p.thoughtSignature)).toEqual(['fsig-1', SKIP_SIGNATURE]);
    expect(inner.generationConfig.thinkingConfig).toEqual({ includeThoughts: true });
  });

  it('a Claude signature is never used for a Gemini turn', async () => {
    const sigs = new SignatureCache();
    await sigs.saveTurn(scopeOf(request('claude-sonnet-4-5-thinking', [])), ['x1'], { thinking: [{ text: 't', signature: 'claude-sig' }], signature: 'claude-call-sig' });
    sigs.forThinking(scopeOf(request('claude-sonnet-4-5-thinking', [])), [{ text: 'same words', signature: 'claude-sig' }]);
    const { inner } = await build(request(MODEL, [user('go'), { role: 'assistant', content: [{ type: 'reasoning', text: 'same words' }, ...call('x1').content] }, result('x1')]), sigs);
    expect(JSON.stringify(inner.contents)).not.toContain('claude-');
    expect(inner.contents[1]!.parts.find((p) => p.functionCall)!.thoughtSignature).toBe(SKIP_SIGNATURE);
  });
});

describe('CloudCodeTranslator: what a turn leaves behind', () => {
  it('Claude: the signed blocks before the calls, for each call; the text of several blocks findable joined', () => {
    const sigs = new SignatureCache();
    const scope = { family: 'claude', conversation: 'c' };
    const x = new CloudCodeTranslator(sigs, scope);
    const parts = [
      ...x.chunk({ response: { candidates: [{ content: { parts: [{ text: 'one ', thought: true }, { text: 'two', thought: true, thoughtSignature: 'sA' }] } }] } }),
      ...x.chunk({ response: { candidates: [{ content: { parts: [{ text: 'three', thought: true }, { text: '', thought: true, thoughtSignature: 'sB' }, { text: 'Calling.' }] } }] } }),
      ...x.chunk({ response: { candidates: [{ content: { parts: [{ functionCall: { id: 'c1', name: 'f', args: {} }, thoughtSignature: 'fs1' }, { functionCall: { id: 'c2', name: 'f', args: {} } }] } }] } }),
    ];
    expect(parts.filter((p) => p.type === 'reasoning-delta' && p.signature).map((p) => (p as { signature: string }).signature)).toEqual(['sA', 'sB']);
    const blocks = [
      { text: 'one two', signature: 'sA' },
      { text: 'three', signature: 'sB' },
    ];
    expect(x.takeTurns()).toEqual([
      { id: 'c1', record: { thinking: blocks, signature: 'fs1' } },
      { id: 'c2', record: { thinking: blocks } },
    ]);
    expect(x.takeTurns()).toEqual([]);
    expect(sigs.thinking(scope, 'one twothree')).toEqual(blocks);
  });

  it('Claude: a signature on the call while thinking is unsigned belongs to that thinking', () => {
    const x = new CloudCodeTranslator(new SignatureCache(), { family: 'claude', conversation: 'c' });
    const parts = x.chunk({ response: { candidates: [{ content: { parts: [{ text: 'hmm', thought: true }, { functionCall: { id: 'c1', name: 'f', args: {} }, thoughtSignature: 'sig' }] } }] } });
    expect(parts.map((p) => p.type)).toEqual(['reasoning-delta', 'reasoning-delta', 'tool-call']);
    expect(x.takeTurns()).toEqual([{ id: 'c1', record: { thinking: [{ text: 'hmm', signature: 'sig' }], signature: 'sig' } }]);
  });

  it('Gemini: only the call signature is kept per call; calls without one leave nothing', () => {
    const x = new CloudCodeTranslator(new SignatureCache(), { family: 'gemini', conversation: 'c' });
    x.chunk({ response: { candidates: [{ content: { parts: [{ text: 'thinking', thought: true }, { functionCall: { id: 'g1', name: 'f', args: {} }, thoughtSignature: 'gs' }, { functionCall: { id: 'g2', name: 'f', args: {} } }] } }] } });
    expect(x.takeTurns()).toEqual([{ id: 'g1', record: { thinking: [], signature: 'gs' } }]);
  });
});
