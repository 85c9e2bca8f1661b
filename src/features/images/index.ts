/**
 * Images in a conversation, prepared once for every provider:
 * - numbered in order of first appearance ("Image #1", …), de-duplicated by a hash of
 *   their full content;
 * - only images new since the last assistant turn, and earlier ones that the new turn
 *   points at with an "[Image #N]" placeholder, are fetched, validated and normalised;
 *   the other earlier ones become the text "[Image #N]" (the model saw them then, and a
 *   pasted screenshot must not weigh on every later turn);
 * - more than IMAGE_MAX_COUNT images to process is a 400.
 */
import { createHash } from 'node:crypto';
import type { ChatMessage, ChatRequest, ContentPart, ImagePart } from '../../core/request.js';
import { BadRequest } from '../../core/errors.js';
import { fetchImage, type FetchLimits } from './fetch.js';
import { normalizeImage, type ImageLimits, type NormalizedImage } from './normalize.js';

export interface ImageOptions extends ImageLimits {
  maxCount: number;
  fetch: FetchLimits;
}

const PLACEHOLDER = /\[Image #(\d+)\]/g;

/** recently normalised images by content hash: a re-sent image is not decoded again */
class NormalizedCache {
  private readonly map = new Map<string, NormalizedImage>();
  private bytes = 0;
  constructor(private readonly budget: number) {}
  get(key: string): NormalizedImage | undefined {
    const v = this.map.get(key);
    if (v) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: string, v: NormalizedImage): void {
    if (this.map.has(key)) return;
    this.map.set(key, v);
    this.bytes += v.data.length;
    for (const [k, old] of this.map) {
      if (this.bytes <= this.budget) break;
      this.map.delete(k);
      this.bytes -= old.data.length;
    }
  }
}
const cache = new NormalizedCache(64 * 1024 * 1024);

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

interface Found {
  key: string;
  number: number;
  part: ImagePart;
  where: string;
}

function keyOf(part: ImagePart): string {
  if (part.data) return sha256(Buffer.from(part.data, 'base64'));
  return `url:${part.url ?? ''}`;
}

export function hasImages(req: ChatRequest): boolean {
  return req.messages.some((m) => m.content.some((p) => p.type === 'image' || (p.type === 'text' && p.text.includes('[Image #'))));
}

export async function prepareImages(req: ChatRequest, opts: ImageOptions, signal?: AbortSignal): Promise<ChatRequest> {
  if (!hasImages(req)) return req;
  const lastAssistant = req.messages.map((m) => m.role).lastIndexOf('assistant');

  // number every image by first appearance
  const byKey = new Map<string, Found>();
  const byNumber = new Map<number, Found>();
  req.messages.forEach((m, i) =>
    m.content.forEach((p, j) => {
      if (p.type !== 'image') return;
      const key = keyOf(p);
      if (byKey.has(key)) return;
      const found = { key, number: byKey.size + 1, part: p, where: `messages[${i}].content[${j}]` };
      byKey.set(key, found);
      byNumber.set(found.number, found);
    }),
  );

  // what the model is shown now: images of the new turn(s), and earlier ones they point at
  const wanted = new Set<string>();
  req.messages.forEach((m, i) => {
    if (i <= lastAssistant) return;
    for (const p of m.content) {
      if (p.type === 'image') wanted.add(keyOf(p));
      if (p.type === 'text' && m.role === 'user') {
        for (const [, n] of p.text.matchAll(PLACEHOLDER)) {
          const f = byNumber.get(Number(n));
          if (f) wanted.add(f.key);
        }
      }
    }
  });
  if (wanted.size > opts.maxCount) {
    throw new BadRequest(`This request has ${wanted.size} images to look at; at most ${opts.maxCount} are allowed (IMAGE_MAX_COUNT).`, {
      param: 'messages',
      code: 'too_many_images',
    });
  }

  // fetch and normalise those, in parallel; identical content shares one result
  const ready = new Map<string, ImagePart>();
  await Promise.all(
    [...wanted].map(async (key) => {
      const f = byKey.get(key)!;
      let bytes: Buffer;
      let declared = f.part.mediaType;
      if (f.part.data !== undefined) bytes = Buffer.from(f.part.data, 'base64');
      else {
        const got = await fetchImage(f.part.url ?? '', opts.fetch, f.where, signal);
        bytes = got.data;
        declared = got.mediaType ?? declared;
      }
      const hash = sha256(bytes);
      let img = cache.get(hash);
      if (!img) {
        img = await normalizeImage(bytes, opts, f.where, declared);
        cache.set(hash, img);
      }
      ready.set(key, { type: 'image', data: img.data.toString('base64'), mediaType: img.mediaType, label: `Image #${f.number}` });
    }),
  );

  const shown = new Set<string>();
  const messages: ChatMessage[] = req.messages.map((m, i) => {
    const content: ContentPart[] = [];
    for (const p of m.content) {
      if (p.type === 'image') {
        const key = keyOf(p);
        const img = ready.get(key);
        if (img && i > lastAssistant && !shown.has(key)) {
          shown.add(key);
          content.push(img);
        } else content.push({ type: 'text', text: `[Image #${byKey.get(key)!.number}]` });
        continue;
      }
      content.push(p);
      // a placeholder in the new turn brings its earlier image along
      if (p.type === 'text' && i > lastAssistant && m.role === 'user') {
        for (const [, n] of p.text.matchAll(PLACEHOLDER)) {
          const f = byNumber.get(Number(n));
          const img = f && ready.get(f.key);
          if (f && img && !shown.has(f.key) && !m.content.some((q) => q.type === 'image' && keyOf(q) === f.key)) {
            shown.add(f.key);
            content.push(img);
          }
        }
      }
    }
    return { ...m, content };
  });
  return { ...req, messages };
}
