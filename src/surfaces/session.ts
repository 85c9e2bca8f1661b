/** The session key every surface derives the same way: a client header, else a hash of the first user turn. */
import { hash } from 'node:crypto';
import type { ChatMessage } from '../core/request.js';
import type { Headers } from './types.js';

/** X-Session-ID, Kilo's x-session-affinity, Claude Code's session header */
const SESSION_HEADERS = ['x-session-id', 'x-session-affinity', 'x-claude-code-session-id'];

export function sessionKey(headers: Headers, messages: ChatMessage[], hint?: string): string | undefined {
  for (const name of SESSION_HEADERS) {
    const h = headers[name];
    if (typeof h === 'string' && h) return h;
  }
  if (hint) return hint;
  const first = messages.find((m) => m.role === 'user');
  if (!first) return undefined;
  // one-shot (Node >= 20.12): the same digest as createHash, without a Hash object per request
  return hash('sha256', JSON.stringify(first.content), 'hex').slice(0, 32);
}
