/** Shared by every surface: validate a JSON body with zod and say exactly what to fix. */
import type { z } from 'zod';
import { BadRequest } from '../core/errors.js';

function pathString(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out;
}

function describe(issue: z.core.$ZodIssue): string {
  const where = pathString(issue.path);
  const prefix = where ? `${where}: ` : '';
  switch (issue.code) {
    case 'invalid_type':
      return `${prefix}expected ${issue.expected}${issue.input === undefined ? ', but it is missing' : `, got ${typeOf(issue.input)}`}`;
    case 'invalid_union': {
      const disc = (issue as { discriminator?: string }).discriminator;
      if (disc) {
        // zod puts the discriminator in the path already; name the field once
        const field = issue.path.at(-1) === disc ? where : `${where ? `${where}.` : ''}${disc}`;
        return `${field} has a value that is not allowed here`;
      }
      return `${prefix}does not match any accepted shape`;
    }
    case 'unrecognized_keys':
      return `${prefix}unknown field(s) ${issue.keys.join(', ')}`;
    default:
      return `${prefix}${issue.message}`;
  }
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequest('The request body must be a JSON object (send Content-Type: application/json).', {
      code: 'invalid_body',
    });
  }
  return parseAt(schema, body, []);
}

/** validate one piece of a body (an item picked by its type), naming fields by their full path */
export function parseAt<S extends z.ZodType>(schema: S, value: unknown, at: readonly PropertyKey[]): z.infer<S> {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, 3).map((i) => ({ ...i, path: [...at, ...i.path] }) as z.core.$ZodIssue);
  const first = issues[0];
  throw new BadRequest(`Invalid request: ${issues.map(describe).join('; ')}`, {
    ...(first && first.path.length ? { param: pathString(first.path) } : {}),
    code: 'invalid_request',
  });
}

/**
 * Hand checks for a surface's common request (text messages and a few settings), beside its
 * zod schema: a surface uses the body as it is only when every check passes, which is only when
 * the schema would accept it and return the same values (every key one the schema knows, no
 * default to fill in). Anything else, every invalid body included, goes through the schema, so
 * a 400 still names the field. Each check answers "plainly valid", never why not.
 */
export type Fields = Record<string, unknown>;

/** a JSON object whose keys are all in `keys` */
export function objectOf(v: unknown, keys: ReadonlySet<string>): v is Fields {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  for (const k in v) if (!keys.has(k)) return false;
  return true;
}

/** absent, or null when `nullable` */
const absent = (v: unknown, nullable: boolean) => v === undefined || (nullable && v === null);
export const optString = (v: unknown, nullable = false) => absent(v, nullable) || typeof v === 'string';
export const optBoolean = (v: unknown, nullable = false) => absent(v, nullable) || typeof v === 'boolean';
export const optNumberIn = (v: unknown, min: number, max: number, nullable = false) => absent(v, nullable) || (typeof v === 'number' && v >= min && v <= max);
export const optPositiveInt = (v: unknown, nullable = false) => absent(v, nullable) || (Number.isSafeInteger(v) && (v as number) > 0);
