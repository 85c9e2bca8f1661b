/** Tool schemas cleaned for the Gemini side of Cloud Code. */
import { describe, expect, it } from 'vitest';
import { sanitizeSchema } from '../../../src/providers/cloudcode/schema.js';
import { parseDelay } from '../../../src/providers/cloudcode/client.js';

describe('sanitizeSchema', () => {
  it('drops keywords Gemini refuses, inlines $ref, folds nullable types and const', () => {
    const out = sanitizeSchema({
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      additionalProperties: false,
      $defs: { Point: { type: 'object', properties: { x: { type: 'number', exclusiveMinimum: 0 } }, required: ['x', 'y'] } },
      properties: {
        at: { $ref: '#/$defs/Point' },
        name: { type: ['string', 'null'], default: 'n', title: 'Name' },
        mode: { const: 'fast' },
        level: { type: 'integer', enum: [1, 2] },
        tag: { anyOf: [{ type: 'string', format: 'email' }, { type: 'null' }] },
        both: { allOf: [{ properties: { a: { type: 'string' } }, required: ['a'] }, { properties: { b: { type: 'string' } } }] },
        list: { type: 'array', items: [{ type: 'string', format: 'date-time' }] },
      },
      required: ['at', 'ghost'],
    });
    expect(JSON.stringify(out)).not.toMatch(/\$schema|additionalProperties|\$ref|\$defs|default|title|exclusiveMinimum|"const"|email/);
    expect(out.required).toEqual(['at']);
    const p = out.properties as Record<string, any>;
    expect(p.at).toEqual({ type: 'object', properties: { x: { type: 'number' } }, required: ['x'] });
    expect(p.name).toEqual({ type: 'string', nullable: true });
    expect(p.mode).toEqual({ enum: ['fast'], type: 'string' });
    expect(p.level).toEqual({ type: 'string', enum: ['1', '2'] });
    expect(p.tag).toEqual({ nullable: true, type: 'string' });
    expect(p.both).toEqual({ properties: { a: { type: 'string' }, b: { type: 'string' } }, required: ['a'], type: 'object' });
    expect(p.list).toEqual({ type: 'array', items: { type: 'string', format: 'date-time' } });
  });
});

describe('retry delays', () => {
  it('reads the durations Google writes', () => {
    expect(parseDelay('12.5s')).toBe(12.5);
    expect(parseDelay('1h2m3s')).toBe(3723);
    expect(parseDelay('250ms')).toBeCloseTo(0.25);
    expect(parseDelay(undefined)).toBeUndefined();
  });
});
