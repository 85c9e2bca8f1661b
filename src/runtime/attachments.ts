/**
 * A request's images as files in the sandbox (images/image-N.ext), the form every CLI
 * can be pointed at; each provider says how its CLI is shown them.
 */
import type { ChatRequest, ImagePart } from '../core/request.js';

export interface Attachment {
  /** "Image #N" */
  label: string;
  /** relative to the sandbox (the CLI's working directory) */
  path: string;
  mediaType: string;
  /** base64 */
  data: string;
}

const EXT: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/gif': 'gif', 'image/webp': 'webp' };

/** the prepared images of a request, once each, in order */
export function attachmentsOf(req: ChatRequest): Attachment[] {
  const out = new Map<string, Attachment>();
  for (const m of req.messages) {
    for (const p of m.content) {
      if (p.type !== 'image' || p.data === undefined) continue;
      const label = p.label ?? `Image #${out.size + 1}`;
      if (out.has(label)) continue;
      const n = label.replace(/\D+/g, '') || String(out.size + 1);
      const mediaType = p.mediaType ?? 'image/png';
      out.set(label, { label, path: `images/image-${n}.${EXT[mediaType] ?? 'png'}`, mediaType, data: p.data });
    }
  }
  return [...out.values()];
}

export function attachmentFor(atts: Attachment[], part: ImagePart): Attachment | undefined {
  return atts.find((a) => a.label === part.label) ?? atts.find((a) => a.data === part.data);
}
