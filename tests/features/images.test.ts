/** Images: every accepted format, limits, bad types, duplicates, placeholders, history and URL fetches. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { encode as encodeBmp } from 'bmp-ts';
import type { ChatMessage, ChatRequest, ContentPart } from '../../src/core/request.js';
import { CligateError } from '../../src/core/errors.js';
import { normalizeImage, sniffImage } from '../../src/features/images/normalize.js';
import { prepareImages, type ImageOptions } from '../../src/features/images/index.js';
import { isPrivateAddress } from '../../src/features/images/address-guard.js';

const limits = { maxBytes: 3_932_160, maxDimension: 2000 };
const opts: ImageOptions = { ...limits, maxCount: 20, fetch: { timeoutMs: 2000, maxBytes: 1_000_000, allowPrivate: true } };

const solid = (w: number, h: number, color = '#3366ff') => sharp({ create: { width: w, height: h, channels: 3, background: color } });
/** random pixels: incompressible, so byte limits really bite */
async function noise(w: number, h: number): Promise<Buffer> {
  const raw = Buffer.alloc(w * h * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 2654435761) >>> 24 ^ (i & 0xff);
  return sharp(raw, { raw: { width: w, height: h, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
}
function bmp(w: number, h: number): Buffer {
  const data = Buffer.alloc(w * h * 4, 0xff);
  return encodeBmp({ data, width: w, height: h, bitPP: 24 } as never).data;
}

async function fail(p: Promise<unknown>): Promise<CligateError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(CligateError);
  return e as CligateError;
}

describe('normalizeImage', () => {
  const formats: [string, () => Promise<Buffer> | Buffer, string][] = [
    ['png', () => solid(40, 30).png().toBuffer(), 'image/png'],
    ['jpeg', () => solid(40, 30).jpeg().toBuffer(), 'image/jpeg'],
    ['gif', () => solid(40, 30).gif().toBuffer(), 'image/gif'],
    ['webp', () => solid(40, 30).webp().toBuffer(), 'image/webp'],
    ['bmp', () => bmp(40, 30), 'image/png'],
    ['tiff', () => solid(40, 30).tiff().toBuffer(), 'image/jpeg'],
  ];
  for (const [name, make, out] of formats) {
    it(`${name} is accepted and comes out as ${out}`, async () => {
      const input = await make();
      expect(sniffImage(input)).toBe(name);
      const img = await normalizeImage(input, limits, 'img');
      expect(img.mediaType).toBe(out);
      expect([img.width, img.height]).toEqual([40, 30]);
      const meta = await sharp(img.data).metadata();
      expect(meta.width).toBe(40);
      // small, accepted types pass byte for byte
      if (out === `image/${name}`) expect(img.data.equals(input)).toBe(true);
    });
  }

  it('a larger image is downscaled to the max dimension, keeping its aspect ratio', async () => {
    const img = await normalizeImage(await solid(3000, 1500).png().toBuffer(), limits, 'img');
    expect([img.width, img.height]).toEqual([2000, 1000]);
  });

  it('an image over the byte limit is re-encoded under it', async () => {
    const big = await noise(900, 900);
    expect(big.length).toBeGreaterThan(2_000_000);
    const img = await normalizeImage(big, { maxBytes: 300_000, maxDimension: 2000 }, 'img');
    expect(img.data.length).toBeLessThanOrEqual(300_000);
    expect(img.mediaType).toBe('image/jpeg');
  });

  it.each([
    ['a PDF', Buffer.from('%PDF-1.7\n1 0 obj'), /a PDF document/],
    ['an SVG', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"></svg>'), /an SVG image/],
    ['text', Buffer.from('hello, I am not an image'), /text, not an image/],
  ])('%s is a 400 that names what it is and what is accepted', async (_n, input, what) => {
    const e = await fail(normalizeImage(input, limits, 'messages[0].content[1]'));
    expect(e.status).toBe(400);
    expect(e.code).toBe('unsupported_image_type');
    expect(e.message).toMatch(what);
    expect(e.message).toMatch(/messages\[0\]\.content\[1\].*PNG, JPEG, GIF, WebP, BMP or TIFF/);
  });

  it('a PNG header on broken data is a 400 saying it cannot be decoded', async () => {
    const png = await solid(10, 10).png().toBuffer();
    const e = await fail(normalizeImage(Buffer.concat([png.subarray(0, 40), Buffer.alloc(50)]), limits, 'x'));
    expect(e.code).toBe('invalid_image');
  });
});

const img = (data: Buffer): ContentPart => ({ type: 'image', data: data.toString('base64'), mediaType: 'image/png' });
const text = (t: string): ContentPart => ({ type: 'text', text: t });
const req = (messages: ChatMessage[]): ChatRequest => ({ model: 'm', stream: false, messages });

describe('prepareImages', () => {
  let red: Buffer, green: Buffer, blue: Buffer;
  beforeAll(async () => {
    red = await solid(8, 8, '#ff0000').png().toBuffer();
    green = await solid(8, 8, '#00ff00').png().toBuffer();
    blue = await solid(8, 8, '#0000ff').png().toBuffer();
  });

  it('numbers images, sends only the new turn’s, and names earlier ones as [Image #N]', async () => {
    const out = await prepareImages(
      req([
        { role: 'user', content: [text('look'), img(red)] },
        { role: 'assistant', content: [text('red square')] },
        { role: 'user', content: [text('and this?'), img(green)] },
      ]),
      opts,
    );
    expect(out.messages[0]!.content[1]).toEqual({ type: 'text', text: '[Image #1]' });
    expect(out.messages[2]!.content[1]).toMatchObject({ type: 'image', label: 'Image #2', mediaType: 'image/png' });
  });

  it('the same image twice in a turn is sent once, the second is a reference', async () => {
    const out = await prepareImages(req([{ role: 'user', content: [img(blue), text('again:'), img(blue)] }]), opts);
    expect(out.messages[0]!.content.filter((p) => p.type === 'image')).toHaveLength(1);
    expect(out.messages[0]!.content[2]).toEqual({ type: 'text', text: '[Image #1]' });
  });

  it('an [Image #N] placeholder in the new turn brings that earlier image back', async () => {
    const out = await prepareImages(
      req([
        { role: 'user', content: [img(red), img(green)] },
        { role: 'assistant', content: [text('two squares')] },
        { role: 'user', content: [text('compare [Image #2] with [Image #9]')] },
      ]),
      opts,
    );
    const last = out.messages[2]!.content;
    expect(last[0]).toEqual(text('compare [Image #2] with [Image #9]'));
    expect(last.slice(1)).toEqual([expect.objectContaining({ type: 'image', label: 'Image #2', data: green.toString('base64') })]);
    expect(out.messages[0]!.content).toEqual([text('[Image #1]'), text('[Image #2]')]);
  });

  it('more images than IMAGE_MAX_COUNT is a 400 naming the limit', async () => {
    const many = await Promise.all(Array.from({ length: 4 }, (_, i) => sharp({ create: { width: 4, height: 4, channels: 3, background: { r: 0, g: 0, b: 10 + i } } }).png().toBuffer()));
    const e = await fail(prepareImages(req([{ role: 'user', content: many.map(img) }]), { ...opts, maxCount: 3 }));
    expect(e.status).toBe(400);
    expect(e.message).toMatch(/4 images.*at most 3.*IMAGE_MAX_COUNT/);
  });

  describe('URLs', () => {
    let server: http.Server;
    let base = '';
    beforeAll(async () => {
      server = http.createServer((rq, rs) => {
        if (rq.url === '/red.png') return void rs.writeHead(200, { 'content-type': 'image/png' }).end(red);
        if (rq.url === '/huge.png') return void rs.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.alloc(2_000_000));
        if (rq.url === '/slow.png') return void setTimeout(() => rs.writeHead(200).end(red), 5000).unref();
        rs.writeHead(404).end();
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });

    it('an http URL is fetched and inlined; failures are 400s that say why', async () => {
      const out = await prepareImages(req([{ role: 'user', content: [{ type: 'image', url: `${base}/red.png` }] }]), opts);
      expect(out.messages[0]!.content[0]).toMatchObject({ type: 'image', data: red.toString('base64'), mediaType: 'image/png' });
      const one = (url: string, o = opts) => prepareImages(req([{ role: 'user', content: [{ type: 'image', url }] }]), o);
      expect((await fail(one(`${base}/missing.png`))).message).toMatch(/HTTP 404/);
      expect((await fail(one(`${base}/huge.png`))).message).toMatch(/larger than 1000000 bytes \(IMAGE_FETCH_MAX_BYTES\)/);
      expect((await fail(one(`${base}/slow.png`, { ...opts, fetch: { ...opts.fetch, timeoutMs: 200 } }))).message).toMatch(/within 200 ms \(IMAGE_FETCH_TIMEOUT\)/);
      expect((await fail(one('ftp://example/x.png'))).code).toBe('image_fetch_failed');
    });

    it('private addresses are refused unless IMAGE_FETCH_ALLOW_PRIVATE: literal, by name, mapped, metadata', async () => {
      const strict = { ...opts, fetch: { ...opts.fetch, allowPrivate: false } };
      const port = new URL(base).port;
      const one = (url: string) => prepareImages(req([{ role: 'user', content: [{ type: 'image', url }] }]), strict);
      for (const url of [`${base}/red.png`, `http://localhost:${port}/red.png`, `http://[::1]:${port}/red.png`, `http://[::ffff:127.0.0.1]:${port}/red.png`, 'http://169.254.169.254/latest/meta-data/', 'http://10.1.2.3/x.png', 'http://0.0.0.0/x.png']) {
        const err = await fail(one(url));
        expect(err.code, url).toBe('image_fetch_failed');
        expect(err.message, url).toMatch(/private address.*IMAGE_FETCH_ALLOW_PRIVATE/);
      }
    });

    it('isPrivateAddress covers the non-public ranges and leaves public ones', () => {
      for (const ip of ['127.0.0.1', '10.0.0.1', '172.16.5.4', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '::1', '::', 'fd00::1', 'fe80::1', '::ffff:10.0.0.1', '::ffff:7f00:1', '64:ff9b::7f00:1'])
        expect(isPrivateAddress(ip), ip).toBe(true);
      for (const ip of ['8.8.8.8', '172.32.0.1', '1.1.1.1', '2606:4700::1111', '::ffff:8.8.8.8', '::ffff:808:808'])
        expect(isPrivateAddress(ip), ip).toBe(false);
    });
  });
});
