/** Gemini Enterprise (business Gemini) wire shapes, as far as cligate reads them. */

export interface EnterpriseCredentials {
  team_id: string;
  secure_c_ses: string;
  host_c_oses?: string;
  csesidx: string;
  user_agent?: string;
}

export interface QueryPart {
  text?: string;
  inlineData?: { mimeType: string; data: string };
}

export interface ImageBytes {
  bytesBase64Encoded?: string;
  mimeType?: string;
}

export interface ReplyContent {
  text?: string;
  thought?: boolean;
  inlineData?: { data?: string; mimeType?: string };
  imageBytes?: string;
  mimeType?: string;
  file?: { fileId?: string; mimeType?: string; name?: string };
  attachments?: Attachment[];
}

export interface Attachment {
  mimeType?: string;
  data?: string;
  bytesBase64Encoded?: string;
  name?: string;
}

export interface GeneratedImage {
  image?: ImageBytes;
  bytesBase64Encoded?: string;
  mimeType?: string;
}

export interface Reply {
  generatedImages?: GeneratedImage[];
  attachments?: Attachment[];
  groundedContent?: { content?: ReplyContent; attachments?: Attachment[]; inlineData?: ReplyContent['inlineData'] };
}

export interface StreamAssistElement {
  streamAssistResponse?: {
    sessionInfo?: { session?: string };
    generatedImages?: GeneratedImage[];
    answer?: { state?: string; generatedImages?: GeneratedImage[]; replies?: Reply[] };
  };
  error?: { code?: number; message?: string; status?: string };
}
