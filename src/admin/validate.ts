/** Admin input through zod: a failure is a 400 that names each bad field. */
import type { z } from 'zod';
import { BadRequest } from '../core/errors.js';

export function parse<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const r = schema.safeParse(input ?? {});
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
  throw new BadRequest(`Invalid ${what}: ${issues}`, { code: 'invalid_admin_input', ...(r.error.issues[0]?.path.length ? { param: r.error.issues[0].path.join('.') } : {}) });
}
