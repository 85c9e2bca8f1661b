/** The session id Cloud Code requests carry upstream (`request.sessionId`), for Google's prompt cache. */
import { describe, expect, it } from 'vitest';
import type { ChatMessage, ChatRequest } from '../../../src/core/request.js';
import { envelope, sessionIdFor } from '../../../src/providers/cloudcode/request.js';

const user = (text: string): ChatMessage => ({ role: 'user', content: [{ type: 'text', text }] });
const assistant = (text: string): ChatMessage => ({ role: 'assistant', content: [{ type: 'text', text }] });
const req = (messages: ChatMessage[], sessionKey?: string): ChatRequest => ({ model: 'gemini-3-flash', messages, stream: false, ...(sessionKey ? { sessionKey } : {}) });

describe('Cloud Code session id', () => {
  it('is stable across the turns of a conversation and differs between conversations and accounts', () => {
    const turn1 = req([user('plan a trip')], 'conv-1');
    const turn2 = req([user('plan a trip'), assistant('where to?'), user('Lisbon')], 'conv-1');
    expect(sessionIdFor(turn2, 'acc-1')).toBe(sessionIdFor(turn1, 'acc-1'));
    expect(sessionIdFor(req([user('plan a trip')], 'conv-2'), 'acc-1')).not.toBe(sessionIdFor(turn1, 'acc-1'));
    // the same conversation on another account is another session there (no correlating accounts)
    expect(sessionIdFor(turn1, 'acc-2')).not.toBe(sessionIdFor(turn1, 'acc-1'));
  });

  it('is a hash: 32 hex digits, neither the conversation key nor message text', () => {
    const id = sessionIdFor(req([user('my secret plan')], 'client-session-key'), 'acc-1')!;
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(id).not.toContain('client-session-key');
    expect(id).not.toBe('client-session-key');
  });

  it('without a conversation key, keys the conversation by its first user turn; with no user turn there is none', () => {
    const a = sessionIdFor(req([user('first question')]), 'acc-1');
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(sessionIdFor(req([user('first question'), assistant('answer'), user('next')]), 'acc-1')).toBe(a);
    expect(sessionIdFor(req([user('another question')]), 'acc-1')).not.toBe(a);
    expect(sessionIdFor(req([assistant('hello')]), 'acc-1')).toBeUndefined();
  });

  it('goes in the inner request of the v1internal envelope, not beside it', () => {
    const inner = { contents: [] };
    const body = envelope(req([user('x')]), 'proj', inner, 'abc123') as { request: Record<string, unknown>; sessionId?: string };
    expect(body.request.sessionId).toBe('abc123');
    expect(body.sessionId).toBeUndefined();
    expect((envelope(req([user('x')]), 'proj', inner) as { request: Record<string, unknown> }).request).not.toHaveProperty('sessionId');
  });
});
