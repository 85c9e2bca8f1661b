/**
 * Tool-call emulation for providers that cannot call a client's tools (the CLIs):
 * the tools and the call format go into the system prompt, earlier calls and results
 * into the conversation as text, and the model's answer is read back into tool calls.
 */
import { joinSystem, type ChatRequest } from '../../core/request.js';
import type { StreamPart } from '../../core/stream.js';
import { callsAsText, toolInstructions } from './prompt.js';
import { emulateToolCalls } from './extract.js';

export interface Emulation {
  request: ChatRequest;
  transform(parts: AsyncIterable<StreamPart>): AsyncIterable<StreamPart>;
}

export function emulateTools(req: ChatRequest): Emulation | undefined {
  const tools = req.tools ?? [];
  const history = req.messages.some((m) => m.content.some((p) => p.type === 'tool-call' || p.type === 'tool-result'));
  if (!tools.length && !history) return undefined;
  const { tools: _t, toolChoice: _c, ...rest } = req;
  const request: ChatRequest = { ...rest, messages: callsAsText(req.messages) };
  if (!tools.length || req.toolChoice === 'none') return { request, transform: (p) => p };
  request.system = joinSystem(req.system, toolInstructions(tools, req.toolChoice));
  return { request, transform: (parts) => emulateToolCalls(parts, tools, req.toolChoice) };
}
