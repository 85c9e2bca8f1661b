/**
 * The Anthropic Messages API as Claude Code 2.1.197 sends it with its default model:
 * system-role messages mid-conversation, thinking adaptive/enabled/disabled, output_config,
 * context_management, service_tier and fields nobody knows yet, and how each provider kind
 * receives a mid-conversation system message (never dropped).
 */
import { describe, expect, it } from 'vitest';
import { decodeMessages } from '../../../src/surfaces/anthropic/decode.js';
import { renderTranscript } from '../../../src/features/transcript.js';
import { buildRequest as kiroRequest } from '../../../src/providers/kiro/request.js';
import { buildInner as cloudcodeRequest } from '../../../src/providers/cloudcode/request.js';
import { SignatureCache } from '../../../src/providers/cloudcode/signatures.js';
import { chatCompletionsBody } from '../../../src/providers/openai-compatible/request.js';
import { BadRequest } from '../../../src/core/errors.js';

const info = { headers: {}, params: {}, query: {} };
const body = (extra: Record<string, unknown> = {}) => ({
  model: 'claude-opus-4-8',
  max_tokens: 32000,
  system: [{ type: 'text', text: 'You are Claude Code.' }],
  messages: [
    { role: 'user', content: [{ type: 'text', text: 'hi' }] },
    { role: 'system', content: 'Available agent types: general-purpose' },
  ],
  ...extra,
});

describe('Anthropic decode: the current Messages API', () => {
  it('keeps a system message after the first user turn at its position', () => {
    const req = decodeMessages(body(), info);
    expect(req.system).toBe('You are Claude Code.');
    expect(req.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'hi' }] },
      { role: 'system', content: [{ type: 'text', text: 'Available agent types: general-purpose' }] },
    ]);
  });

  it('a system message before any turn joins the system prompt', () => {
    const req = decodeMessages(body({ messages: [{ role: 'system', content: [{ type: 'text', text: 'lead rule' }] }, { role: 'user', content: 'q' }] }), info);
    expect(req.system).toBe('You are Claude Code.\n\nlead rule');
    expect(req.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'q' }] }]);
  });

  it('a conversation of system messages alone is not a prompt', () => {
    expect(() => decodeMessages(body({ messages: [{ role: 'system', content: 'only rules' }] }), info)).toThrow(BadRequest);
  });

  it('thinking adaptive / enabled with a budget / disabled', () => {
    expect(decodeMessages(body({ thinking: { type: 'adaptive' } }), info)).toMatchObject({ thinking: true });
    const enabled = decodeMessages(body({ thinking: { type: 'enabled', budget_tokens: 2048 } }), info);
    expect(enabled).toMatchObject({ thinking: true, thinkingBudget: 2048 });
    const off = decodeMessages(body({ thinking: { type: 'disabled' } }), info);
    expect(off.thinking).toBe(false);
    expect(off.thinkingBudget).toBeUndefined();
  });

  it('output_config.format is structured output; context_management, service_tier, effort are accepted and listed as ignored', () => {
    const req = decodeMessages(
      body({
        output_config: { effort: 'high', format: { type: 'json_schema', schema: { type: 'object' } } },
        context_management: { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] },
        service_tier: 'auto',
        metadata: { user_id: 'user_abc_account__session_0f0e0d0c-aaaa-bbbb-cccc-000000000000' },
        a_field_from_2027: { anything: true },
      }),
      info,
    );
    expect(req.responseFormat).toEqual({ type: 'json_schema', schema: { type: 'object' } });
    expect(req.ignored).toEqual(['context_management', 'service_tier', 'output_config.effort']);
    expect(req.sessionKey).toBe('0f0e0d0c-aaaa-bbbb-cccc-000000000000');
  });

  it('a known field with a wrong type is still a 400 naming it', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ thinking: 'adaptive' }, 'thinking'],
      [{ thinking: { type: 'enabled', budget_tokens: 'lots' } }, 'thinking.budget_tokens'],
      [{ context_management: 'clear' }, 'context_management'],
      [{ output_config: { format: 'json' } }, 'output_config.format'],
      [{ service_tier: 3 }, 'service_tier'],
      [{ messages: [{ role: 'narrator', content: 'x' }] }, 'messages[0].role'],
    ];
    for (const [extra, param] of cases) {
      try {
        decodeMessages(body(extra), info);
        expect.unreachable(JSON.stringify(extra));
      } catch (e) {
        expect(e).toBeInstanceOf(BadRequest);
        expect((e as BadRequest).param, JSON.stringify(extra)).toBe(param);
      }
    }
  });
});

describe('a mid-conversation system message reaches every provider kind', () => {
  const req = { ...decodeMessages(body({ messages: [...body().messages as object[], { role: 'assistant', content: 'ok' }, { role: 'user', content: 'next' }] }), info) };
  const RULE = 'Available agent types: general-purpose';

  it('CLI transcript: a System turn at its place', () => {
    const t = renderTranscript(req);
    expect(t).toContain(`<turn role="System">\n${RULE}\n</turn>`);
    expect(t.indexOf('role="System"')).toBeGreaterThan(t.indexOf('role="User"'));
    expect(t.indexOf('role="System"')).toBeLessThan(t.indexOf('role="Assistant"'));
  });

  it('Kiro: merged into the user turn beside it (history stays alternating)', () => {
    const k = kiroRequest(req, { modelId: 'claude-sonnet-4.5', thinking: false });
    const first = k.conversationState.history[0]!;
    expect('userInputMessage' in first && first.userInputMessage.content).toContain(RULE);
    expect(k.conversationState.history.map((h) => Object.keys(h)[0])).toEqual(['userInputMessage', 'assistantResponseMessage']);
  });

  it('Cloud Code: merged into the user content beside it', () => {
    const inner = cloudcodeRequest({ ...req, model: 'claude-sonnet-4-5' }, new SignatureCache()) as { contents: { role: string; parts: { text?: string }[] }[] };
    expect(inner.contents.map((c) => c.role)).toEqual(['user', 'model', 'user']);
    expect(inner.contents[0]!.parts.map((p) => p.text).join('\n')).toContain(RULE);
  });

  it('openai-compatible: a user note at its place (local servers refuse a late system turn)', () => {
    const b = chatCompletionsBody(req, 'm') as { messages: { role: string; content: string }[] };
    expect(b.messages.map((m) => m.role)).toEqual(['system', 'user', 'user', 'assistant', 'user']);
    expect(b.messages[2]!.content).toContain(RULE);
  });
});
