/** The Gemini generateContent request (and the backend-proxy variant), as far as cligate reads it. */
import { z } from 'zod';

const record = z.record(z.string(), z.unknown());

export const partSchema = z.object({
  text: z.string().optional(),
  thought: z.boolean().optional(),
  thoughtSignature: z.string().optional(),
  inlineData: z.object({ mimeType: z.string(), data: z.string() }).optional(),
  fileData: z.object({ mimeType: z.string().optional(), fileUri: z.string() }).optional(),
  functionCall: z.object({ name: z.string(), args: record.optional(), id: z.string().optional() }).optional(),
  functionResponse: z.object({ name: z.string(), response: record.optional(), id: z.string().optional() }).optional(),
});

export const contentSchema = z.object({
  role: z.enum(['user', 'model', 'function', 'system']).optional(),
  parts: z.array(partSchema),
});

/** the wire allows a Content, a list of Parts, or a bare string where one Content is meant */
const systemInstruction = z.union([z.string(), contentSchema, z.array(partSchema)]);

const functionDeclaration = z.object({
  name: z.string().min(1),
  description: z.string().optional(),
  parameters: record.optional(),
  parametersJsonSchema: record.optional(),
});
const tool = z.object({ functionDeclarations: z.array(functionDeclaration).optional() });

const toolConfig = z.object({
  functionCallingConfig: z
    .object({
      mode: z.enum(['AUTO', 'ANY', 'NONE', 'VALIDATED', 'MODE_UNSPECIFIED']).optional(),
      allowedFunctionNames: z.array(z.string()).optional(),
    })
    .optional(),
});

export const generationConfigSchema = z.object({
  temperature: z.number().min(0).max(2).optional(),
  topP: z.number().min(0).max(1).optional(),
  topK: z.number().optional(),
  maxOutputTokens: z.number().int().positive().optional(),
  stopSequences: z.array(z.string()).optional(),
  candidateCount: z.number().int().min(1).max(1, 'only one candidate is supported').optional(),
  thinkingConfig: z.object({ includeThoughts: z.boolean().optional(), thinkingBudget: z.number().optional() }).optional(),
  responseMimeType: z.string().optional(),
  responseSchema: z.record(z.string(), z.unknown()).optional(),
  responseJsonSchema: z.record(z.string(), z.unknown()).optional(),
});

export const generateContentSchema = z.object({
  contents: z.array(contentSchema).min(1, 'must contain at least one content'),
  systemInstruction: systemInstruction.optional(),
  tools: z.array(tool).optional(),
  toolConfig: toolConfig.optional(),
  generationConfig: generationConfigSchema.optional(),
});

/** `POST /api/ai/generate`: the @google/genai request shape, with settings under `config` */
export const backendProxySchema = z.object({
  model: z.string().min(1, 'must be a non-empty string'),
  contents: z.union([z.string(), contentSchema, z.array(contentSchema)]),
  systemInstruction: systemInstruction.optional(),
  tools: z.array(tool).optional(),
  config: generationConfigSchema
    .extend({ systemInstruction: systemInstruction.optional(), tools: z.array(tool).optional(), toolConfig: toolConfig.optional() })
    .optional(),
});

export const countTokensSchema = z.object({
  contents: z.array(contentSchema).optional(),
  generateContentRequest: generateContentSchema.extend({ model: z.string().optional() }).optional(),
});

export type GeminiContent = z.infer<typeof contentSchema>;
export type GeminiPart = z.infer<typeof partSchema>;
export type GeminiTool = z.infer<typeof tool>;
export type GeminiToolConfig = z.infer<typeof toolConfig>;
export type GenerationConfig = z.infer<typeof generationConfigSchema>;
export type SystemInstruction = z.infer<typeof systemInstruction>;
