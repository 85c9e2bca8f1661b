/**
 * ChatRequest: the single internal request language. Surfaces decode their wire
 * format into it; providers consume it. Nothing here knows a dialect or a vendor.
 */

export type TextPart = { type: 'text'; text: string };
export type ImagePart = {
  type: 'image';
  /** base64 payload (no data: prefix) when the image is inline */
  data?: string;
  /** remote URL when the client sent one and it has not been fetched */
  url?: string;
  mediaType?: string;
  /** "Image #N": its number in the conversation, set once images are prepared */
  label?: string;
};
export type ToolCallPart = {
  type: 'tool-call';
  id: string;
  name: string;
  /** arguments as a JSON string, exactly as the model produced them */
  arguments: string;
};
export type ToolResultPart = {
  type: 'tool-result';
  toolCallId: string;
  name?: string;
  content: string;
  isError?: boolean;
};
export type ReasoningPart = { type: 'reasoning'; text: string; signature?: string };

export type ContentPart = TextPart | ImagePart | ToolCallPart | ToolResultPart | ReasoningPart;

/**
 * `system`: an instruction given mid-conversation, at its position (Anthropic's system-role
 * messages, OpenAI system/developer messages after the first turn). Leading instructions
 * go to `ChatRequest.system`. A provider renders these where its upstream allows:
 * in a transcript at their position, or as user text (`systemAsUserText`), never dropped.
 */
export type Role = 'user' | 'assistant' | 'tool' | 'system';

export interface ChatMessage {
  role: Role;
  content: ContentPart[];
}

export interface ToolDefinition {
  name: string;
  description?: string;
  /** JSON schema of the arguments */
  parameters?: Record<string, unknown>;
}

export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

export interface ChatRequest {
  /** the public model name the client asked for */
  model: string;
  /** system and developer instructions, joined in order */
  system?: string;
  messages: ChatMessage[];
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
  stream: boolean;
  /** the client wants a usage report at the end of a stream */
  includeUsage?: boolean;
  /** stable key for a conversation (header or hash of the first user message) */
  sessionKey?: string;
  /**
   * reasoning requested: a "-thinking" model suffix, or the dialect's own switch (Anthropic
   * `thinking`, Responses `reasoning.effort`), for providers that support it
   */
  thinking?: boolean;
  /** the reasoning budget the client asked for, in tokens (providers use their own default without it) */
  thinkingBudget?: number;
  /**
   * hosted tools the client declared (Responses `web_search`, …): types a provider must run
   * itself. The server refuses the request when the provider cannot run one of them.
   */
  hostedTools?: string[];
  /** fields of the dialect the client sent that cligate accepts and does not act on (logged at debug) */
  ignored?: string[];
  /** structured output the client asked for; providers that cannot enforce it get it as an instruction */
  responseFormat?: { type: 'json_object' } | { type: 'json_schema'; name?: string; schema: Record<string, unknown>; strict?: boolean };
  /** the client wants progress markers in the stream (a "-progress" model suffix) */
  progress?: boolean;
}

/** Text of a message's text parts, joined. */
export function messageText(msg: ChatMessage): string {
  return msg.content
    .filter((p): p is TextPart => p.type === 'text')
    .map((p) => p.text)
    .join('');
}

/** true when the message carries something a model should answer (a user turn or tool results) */
export function isPrompt(msg: ChatMessage): boolean {
  return (msg.role === 'user' || msg.role === 'tool') && msg.content.length > 0;
}

/**
 * For upstreams with no system turn mid-conversation: each system message becomes a user
 * message whose text is marked as a system note, at its position, so the provider's own
 * turn merging joins it to the neighbouring user turn.
 */
export function systemAsUserText(messages: ChatMessage[]): ChatMessage[] {
  if (!messages.some((m) => m.role === 'system')) return messages;
  return messages.map((m) =>
    m.role === 'system' ? { role: 'user', content: [{ type: 'text', text: `<system-reminder>\n${messageText(m)}\n</system-reminder>` }] } : m,
  );
}

/** a system prompt with more instructions after it */
export function joinSystem(system: string | undefined, more: string): string {
  return system ? `${system}\n\n${more}` : more;
}
