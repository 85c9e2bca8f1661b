/**
 * One image in, one image out that every model accepts: the real type is read from
 * the bytes (never trusted from the client), PNG/JPEG/GIF/WebP/BMP/TIFF are accepted,
 * anything else is a 400 that names what it is. Images over the size or dimension
 * limits are downscaled and re-encoded; BMP becomes PNG, TIFF JPEG (PNG if it has alpha).
 */
import type { Sharp, Metadata } from 'sharp';
import { decode as decodeBmp } from 'bmp-ts';
import { BadRequest } from '../../core/errors.js';

type SharpFn = (typeof import('sharp'))['default'];
let sharpLoaded: Promise<SharpFn> | undefined;
/** sharp (libvips, native) is loaded by the first image: a server that never sees one does not pay its ~60 ms of start-up */
const loadSharp = (): Promise<SharpFn> => (sharpLoaded ??= import('sharp').then((m) => m.default));

export interface ImageLimits {
  maxBytes: number;
  maxDimension: number;
}

export interface NormalizedImage {
  data: Buffer;
  mediaType: string;
  width: number;
  height: number;
}

type Kind = 'png' | 'jpeg' | 'gif' | 'webp' | 'bmp' | 'tiff';

const MEDIA: Record<string, string> = { png: 'image/png', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp' };

/** the real type, from the magic bytes */
export function sniffImage(b: Buffer): Kind | undefined {
  const at = (i: number, ...bytes: number[]) => bytes.every((x, k) => b[i + k] === x);
  if (at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'png';
  if (at(0, 0xff, 0xd8, 0xff)) return 'jpeg';
  if (b.subarray(0, 6).toString('latin1') === 'GIF87a' || b.subarray(0, 6).toString('latin1') === 'GIF89a') return 'gif';
  if (b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP') return 'webp';
  if (at(0, 0x42, 0x4d) && b.length > 26) return 'bmp';
  if (at(0, 0x49, 0x49, 0x2a, 0x00) || at(0, 0x4d, 0x4d, 0x00, 0x2a)) return 'tiff';
  return undefined;
}

/** a name for what an unsupported payload is, for the error message */
function describe(b: Buffer, declared?: string): string {
  const head = b.subarray(0, 256).toString('latin1');
  if (head.startsWith('%PDF')) return 'a PDF document';
  if (/<svg[\s>]/i.test(head) || (head.trimStart().startsWith('<?xml') && /svg/i.test(head))) return 'an SVG image';
  if (b.subarray(4, 12).toString('latin1').startsWith('ftyp')) return `an ${/avif/.test(b.subarray(8, 12).toString('latin1')) ? 'AVIF' : 'HEIC/MP4'} file`;
  if (at0(b, 0x00, 0x00, 0x01, 0x00)) return 'an ICO icon';
  if (/^\s*[<{[]/.test(head) || /^[\x09\x0a\x0d\x20-\x7e]*$/.test(head)) return 'text, not an image';
  return declared ? `not a readable image (declared ${declared})` : 'not a readable image';
}

function at0(b: Buffer, ...bytes: number[]): boolean {
  return bytes.every((x, k) => b[k] === x);
}

function open(sharp: SharpFn, input: Buffer, kind: Kind): Sharp {
  if (kind !== 'bmp') return sharp(input, { animated: false, failOn: 'error' });
  const bmp = decodeBmp(input, { toRGBA: true });
  const img = sharp(bmp.data, { raw: { width: bmp.width, height: bmp.height, channels: 4 } });
  // 24-bit and palette BMPs carry no alpha (the decoder leaves it 0)
  return bmp.bitPP === 32 ? img : img.removeAlpha();
}

export async function normalizeImage(input: Buffer, limits: ImageLimits, where: string, declared?: string): Promise<NormalizedImage> {
  const kind = sniffImage(input);
  if (!kind) {
    throw new BadRequest(`${where} is ${describe(input, declared)}; images must be PNG, JPEG, GIF, WebP, BMP or TIFF.`, {
      param: where,
      code: 'unsupported_image_type',
    });
  }
  const sharp = await loadSharp();
  let meta: Metadata;
  try {
    meta = await open(sharp, input, kind).metadata();
  } catch (err) {
    throw new BadRequest(`${where} looks like ${kind.toUpperCase()} but cannot be decoded (${(err as Error).message}).`, {
      param: where,
      code: 'invalid_image',
    });
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  const fits = Math.max(width, height) <= limits.maxDimension && input.length <= limits.maxBytes;
  if (fits && MEDIA[kind]) return { data: input, mediaType: MEDIA[kind]!, width, height };

  // too big, or a type models do not take: scale into the box and re-encode, smaller until it fits
  let side = Math.min(limits.maxDimension, Math.max(width, height));
  const lossless = kind === 'png' || kind === 'gif' || kind === 'bmp' || (kind === 'tiff' && meta.hasAlpha === true);
  for (let attempt = 0; attempt < 12; attempt++) {
    const base = open(sharp, input, kind).rotate().resize({ width: side, height: side, fit: 'inside', withoutEnlargement: true });
    const usePng = lossless && attempt === 0;
    const quality = Math.max(40, 85 - attempt * 10);
    const { data, info } = usePng
      ? await base.png({ compressionLevel: 9 }).toBuffer({ resolveWithObject: true })
      : await base.flatten({ background: '#ffffff' }).jpeg({ quality, mozjpeg: true }).toBuffer({ resolveWithObject: true });
    if (data.length <= limits.maxBytes) return { data, mediaType: usePng ? 'image/png' : 'image/jpeg', width: info.width, height: info.height };
    if (attempt >= 2) side = Math.max(16, Math.floor(side * 0.75));
  }
  throw new BadRequest(`${where} cannot be brought under ${limits.maxBytes} bytes (IMAGE_MAX_BYTES).`, { param: where, code: 'image_too_large' });
}
