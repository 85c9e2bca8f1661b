/** Kiro / Amazon Q Developer (CodeWhisperer) wire shapes, as far as cligate uses them. */

export type KiroAuthMethod = 'social' | 'builder-id' | 'idc';

export interface KiroCredentials {
  refresh_token: string;
  auth_method?: string;
  client_id?: string;
  client_secret?: string;
  region?: string;
  profile_arn?: string;
}

export interface KiroImage {
  format: string;
  source: { bytes: string };
}

export interface KiroToolResult {
  toolUseId: string;
  content: { text: string }[];
  status: 'success' | 'error';
}

export interface KiroToolSpec {
  toolSpecification: { name: string; description: string; inputSchema: { json: Record<string, unknown> } };
}

export interface UserInputMessage {
  content: string;
  modelId: string;
  origin: 'AI_EDITOR';
  images?: KiroImage[];
  userInputMessageContext?: { tools?: KiroToolSpec[]; toolResults?: KiroToolResult[] };
}

export interface AssistantResponseMessage {
  content: string;
  toolUses?: { toolUseId: string; name: string; input: Record<string, unknown> }[];
}

export type HistoryEntry = { userInputMessage: UserInputMessage } | { assistantResponseMessage: AssistantResponseMessage };

export interface GenerateRequest {
  conversationState: {
    chatTriggerType: 'MANUAL';
    conversationId: string;
    currentMessage: { userInputMessage: UserInputMessage };
    history: HistoryEntry[];
  };
  profileArn?: string;
}

/** event payloads of the reply stream, by :event-type */
export interface AssistantResponseEvent {
  content?: string;
}
export interface ToolUseEvent {
  name?: string;
  toolUseId?: string;
  input?: string;
  stop?: boolean;
}
export interface ContextUsageEvent {
  contextUsagePercentage?: number;
}
