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

export type Role = 'user' | 'assistant' | 'tool';

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
  /** reasoning requested (a "-thinking" model suffix, for providers that support it) */
  thinking?: boolean;
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
