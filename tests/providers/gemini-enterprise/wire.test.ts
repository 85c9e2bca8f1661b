/** Gemini Enterprise wire helpers: the widget's base64 variant, the JWT, the streamed JSON array. */
import { describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { createJwt, signingKey, widgetBase64 } from '../../../src/providers/gemini-enterprise/jwt.js';
import { JsonArrayReader } from '../../../src/providers/gemini-enterprise/json-array.js';

describe('widgetBase64', () => {
  it('is base64url without padding for one-byte characters', () => {
    expect(widgetBase64('{"a":1}')).toBe(Buffer.from('{"a":1}').toString('base64url'));
    expect(widgetBase64('ab')).not.toContain('=');
  });
  it('writes a character above 255 as two bytes, low byte first (not UTF-8)', () => {
    // "€" is U+20AC: bytes AC 20
    expect(Buffer.from(widgetBase64('€'), 'base64url')).toEqual(Buffer.from([0xac, 0x20]));
    expect(Buffer.from(widgetBase64('é'), 'base64url')).toEqual(Buffer.from([0xe9]));
  });
});

describe('createJwt', () => {
  it('HS256 over header.payload with the decoded xsrfToken; claims as the widget expects', () => {
    const token = Buffer.from('0123456789abcdef0123456789abcdef').toString('base64url');
    const jwt = createJwt({ key: signingKey(token), keyId: 'kid-1', csesidx: '42', now: 1_700_000_000_000 });
    const [h, p, s] = jwt.split('.');
    expect(JSON.parse(Buffer.from(h!, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT', kid: 'kid-1' });
    expect(JSON.parse(Buffer.from(p!, 'base64url').toString())).toEqual({
      iss: 'https://business.gemini.google',
      aud: 'https://biz-discoveryengine.googleapis.com',
      sub: 'csesidx/42',
      iat: 1_700_000_000,
      exp: 1_700_000_300,
      nbf: 1_700_000_000,
    });
    expect(s).toBe(createHmac('sha256', Buffer.from('0123456789abcdef0123456789abcdef')).update(`${h}.${p}`).digest('base64url'));
  });
});

describe('JsonArrayReader', () => {
  const elements = [{ a: 'x]}[{"' }, { b: [1, { c: '\\"}' }] }, { d: 'last' }];
  const text = `[${elements.map((e) => JSON.stringify(e)).join(',\n')}]`;
  for (const size of [1, 3, 16, text.length]) {
    it(`reads each element as soon as it is complete, fed ${size} characters at a time`, () => {
      const r = new JsonArrayReader();
      const got: unknown[] = [];
      for (let i = 0; i < text.length; i += size) got.push(...r.push(text.slice(i, i + size)));
      expect(got).toEqual(elements);
    });
  }
  it('an element arrives before the array closes', () => {
    const r = new JsonArrayReader();
    expect(r.push('[{"x":1},')).toEqual([{ x: 1 }]);
    expect(r.push('{"y":')).toEqual([]);
    expect(r.push('2}]')).toEqual([{ y: 2 }]);
  });
});
