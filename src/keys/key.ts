/**
 * A client key: a named credential for the API routes, made in the admin API or console.
 * Only its hash is kept; the secret (`cg-` + 32 random bytes, base64url) is shown once at
 * creation. A key may expire, be limited to some models (names or globs) and carry limits.
 */
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';

export const KEY_PREFIX = 'cg-';

/** what a key's name may be: it is a label on metrics and a filter in the console */
export const keyNameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[\w.@-][\w .@-]*$/, 'letters, digits, spaces and . _ @ - (not starting with a space)');

export const keyLimitsSchema = z.strictObject({
  /** chat requests per minute (a fixed one-minute window, shared by every instance) */
  requestsPerMinute: z.number().int().positive().optional(),
  /** input + output tokens per UTC day, checked before each request */
  tokensPerDay: z.number().int().positive().optional(),
  /** chat requests in flight at once */
  concurrent: z.number().int().positive().optional(),
});
export type KeyLimits = z.infer<typeof keyLimitsSchema>;

export const clientKeySchema = z.object({
  id: z.string().regex(/^key_[a-z0-9]{8,32}$/),
  name: keyNameSchema,
  /** sha256 of the secret, hex */
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  /** the secret's first characters, to recognise it in a list (`cg-AbCd…`) */
  hint: z.string().max(16),
  createdAt: z.number().int(),
  expiresAt: z.number().int().optional(),
  /** model names or globs it may use (checked against the name sent and what routing made of it); none = all */
  models: z.array(z.string().min(1).max(200)).max(200).optional(),
  limits: keyLimitsSchema.default({}),
  enabled: z.boolean().default(true),
  /** set once: a revoked key stays listed (so its use is refused by name) and is never enabled again */
  revokedAt: z.number().int().optional(),
});
export type ClientKey = z.infer<typeof clientKeySchema>;

export const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');

/** a new secret: 32 random bytes behind the prefix */
export function newSecret(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

export const newKeyId = (): string => `key_${randomBytes(8).toString('hex')}`;

export const hintOf = (secret: string): string => `${secret.slice(0, KEY_PREFIX.length + 4)}…`;

/** why a key cannot be used now, or undefined when it can */
export function keyRefusal(key: ClientKey, now = Date.now()): 'revoked' | 'disabled' | 'expired' | undefined {
  if (key.revokedAt !== undefined) return 'revoked';
  if (!key.enabled) return 'disabled';
  if (key.expiresAt !== undefined && key.expiresAt <= now) return 'expired';
  return undefined;
}
