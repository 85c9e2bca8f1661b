/**
 * The JWT that Gemini Enterprise's widget API accepts, made from the key that
 * /auth/getoxsrf hands out. The web client encodes header and payload with its own
 * base64 variant: each character is one byte (a character above 255 becomes two,
 * low byte first), then base64url without padding. HMAC-SHA256 over "header.payload"
 * with the decoded xsrfToken as the key; valid 300 s.
 */
import { createHmac } from 'node:crypto';

export const JWT_LIFETIME_S = 300;

/** base64url without padding, of a string taken one byte per character (two above 255) */
export function widgetBase64(s: string): string {
  const bytes: number[] = [];
  for (const ch of s) {
    const code = ch.charCodeAt(0);
    if (code > 255) bytes.push(code & 255, code >> 8);
    else bytes.push(code);
  }
  return Buffer.from(bytes).toString('base64url');
}

/** the HMAC key: the xsrfToken, base64url-decoded (its padding may be missing) */
export function signingKey(xsrfToken: string): Buffer {
  return Buffer.from(xsrfToken, 'base64url');
}

export function createJwt(opts: { key: Buffer; keyId: string; csesidx: string; now?: number }): string {
  const iat = Math.floor((opts.now ?? Date.now()) / 1000);
  const header = { alg: 'HS256', typ: 'JWT', kid: opts.keyId };
  const payload = {
    iss: 'https://business.gemini.google',
    aud: 'https://biz-discoveryengine.googleapis.com',
    sub: `csesidx/${opts.csesidx}`,
    iat,
    exp: iat + JWT_LIFETIME_S,
    nbf: iat,
  };
  const message = `${widgetBase64(JSON.stringify(header))}.${widgetBase64(JSON.stringify(payload))}`;
  const signature = createHmac('sha256', opts.key).update(message, 'utf8').digest('base64url');
  return `${message}.${signature}`;
}
