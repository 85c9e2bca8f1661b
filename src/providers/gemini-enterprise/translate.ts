/**
 * One streamed widgetStreamAssist element -> answer text, thoughts, and the images the
 * answer generated. Images arrive in several forms: generatedImages (top level,
 * answer, reply) with bytesBase64Encoded, inlineData / imageBytes in the content,
 * attachments at three levels, and file references (fileId) to download afterwards.
 */
import type { StreamPart } from '../../core/stream.js';
import { UpstreamError } from '../../core/errors.js';
import type { Attachment, GeneratedImage, ReplyContent, StreamAssistElement } from './types.js';

export type GeneratedRef = { kind: 'bytes'; data: string; mimeType: string } | { kind: 'file'; fileId: string; mimeType: string };

export interface ElementResult {
  parts: StreamPart[];
  images: GeneratedRef[];
  session?: string;
}

function fromGenerated(g: GeneratedImage): GeneratedRef | undefined {
  const data = g.image?.bytesBase64Encoded ?? g.bytesBase64Encoded;
  return data ? { kind: 'bytes', data, mimeType: g.image?.mimeType ?? g.mimeType ?? 'image/png' } : undefined;
}

function fromContent(c: ReplyContent | undefined): GeneratedRef[] {
  if (!c) return [];
  const out: GeneratedRef[] = [];
  if (c.inlineData?.data) out.push({ kind: 'bytes', data: c.inlineData.data, mimeType: c.inlineData.mimeType ?? 'image/png' });
  if (c.imageBytes) out.push({ kind: 'bytes', data: c.imageBytes, mimeType: c.mimeType ?? 'image/png' });
  if (c.file?.fileId) out.push({ kind: 'file', fileId: c.file.fileId, mimeType: c.file.mimeType ?? 'image/png' });
  return out;
}

function fromAttachment(a: Attachment): GeneratedRef | undefined {
  const data = a.data ?? a.bytesBase64Encoded;
  return a.mimeType?.startsWith('image/') && data ? { kind: 'bytes', data, mimeType: a.mimeType } : undefined;
}

export function translateElement(el: StreamAssistElement): ElementResult {
  if (el.error) throw new UpstreamError(`Gemini Enterprise error ${el.error.code ?? ''} ${el.error.status ?? ''}: ${el.error.message ?? 'no message'}`.replace(/\s+/g, ' '));
  const sar = el.streamAssistResponse;
  const result: ElementResult = { parts: [], images: [] };
  if (!sar) return result;
  if (sar.sessionInfo?.session) result.session = sar.sessionInfo.session;
  const push = (r: GeneratedRef | undefined) => r && result.images.push(r);
  sar.generatedImages?.forEach((g) => push(fromGenerated(g)));
  sar.answer?.generatedImages?.forEach((g) => push(fromGenerated(g)));
  for (const reply of sar.answer?.replies ?? []) {
    reply.generatedImages?.forEach((g) => push(fromGenerated(g)));
    const gc = reply.groundedContent;
    const content = gc?.content;
    fromContent(content).forEach(push);
    if (gc?.inlineData?.data) push({ kind: 'bytes', data: gc.inlineData.data, mimeType: gc.inlineData.mimeType ?? 'image/png' });
    for (const a of [...(reply.attachments ?? []), ...(gc?.attachments ?? []), ...(content?.attachments ?? [])]) push(fromAttachment(a));
    if (content?.text) result.parts.push(content.thought ? { type: 'reasoning-delta', text: content.text } : { type: 'text-delta', text: content.text });
  }
  return result;
}
