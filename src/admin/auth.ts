/**
 * Admin authentication. ADMIN_PASSWORD unset -> every admin route answers 503 (never
 * open). POST /api/login with the password returns a session token, also set as an
 * HttpOnly SameSite=Strict cookie; the token works as "Authorization: Bearer".
 *
 * Tokens are signed, not stored: HMAC over (expiry, nonce) with a key derived from the
 * password and a random secret kept in DATA_DIR (so a token leaks nothing to guess the
 * password with offline, replicas sharing DATA_DIR accept each other's tokens, and a
 * password change ends every session). Logout revokes a token in this process.
 *
 * CSRF: a request authenticated by the cookie that changes anything must carry
 * X-CSRF-Token (an HMAC of the session token, given at login and by GET /api/session);
 * cross-site pages can neither read it nor send the cookie (SameSite=Strict).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { NextFunction, Request, Response } from 'express';
import { CligateError, Unauthorized, Unavailable } from '../core/errors.js';
import { writeFileAtomic } from '../accounts/atomic-file.js';
import { keyMatches } from '../server/auth.js';

export const COOKIE = 'cligate_admin';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const b64 = (b: Buffer) => b.toString('base64url');


/** the per-installation secret, created on first use */
export async function loadSecret(dataDir: string): Promise<Buffer> {
  const file = path.join(dataDir, 'admin-secret');
  if (existsSync(file)) {
    const s = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64url');
    if (s.length >= 32) return s;
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32);
  await writeFileAtomic(file, `${b64(secret)}\n`);
  return secret;
}

export function cookieValue(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return decodeURIComponent(part.slice(at + 1).trim());
  }
  return undefined;
}

export class AdminAuth {
  private readonly key: Buffer;
  private readonly revoked = new Map<string, number>();

  constructor(
    private readonly password: string,
    secret: Buffer,
    private readonly ttlMs: number,
  ) {
    this.key = createHmac('sha256', secret).update(`cligate-admin-v1\u0000${password}`).digest();
  }

  get enabled(): boolean {
    return this.password !== '';
  }

  checkPassword(given: string): boolean {
    return this.enabled && keyMatches(given, this.password);
  }

  private sign(body: string): string {
    return b64(createHmac('sha256', this.key).update(body).digest());
  }

  issue(now = Date.now()): { token: string; expiresAt: number } {
    const expiresAt = now + this.ttlMs;
    const body = `v1.${expiresAt}.${b64(randomBytes(16))}`;
    return { token: `${body}.${this.sign(body)}`, expiresAt };
  }

  /** the token's expiry when it is genuine, unexpired and not revoked */
  verify(token: string | undefined, now = Date.now()): number | undefined {
    if (!token || !this.enabled) return undefined;
    const m = /^(v1\.(\d{13})\.[\w-]{22})\.([\w-]{43})$/.exec(token);
    if (!m || !keyMatches(this.sign(m[1]!), m[3]!)) return undefined;
    const expiresAt = Number(m[2]);
    if (expiresAt <= now || this.revoked.has(token)) return undefined;
    return expiresAt;
  }

  csrfFor(token: string): string {
    return this.sign(`csrf.${token}`);
  }

  revoke(token: string): void {
    const exp = this.verify(token);
    if (exp === undefined) return;
    this.revoked.set(token, exp);
    for (const [t, e] of this.revoked) if (e <= Date.now()) this.revoked.delete(t);
  }

  /** the presented session: Bearer first, then the cookie */
  presented(req: Request): { token: string; via: 'bearer' | 'cookie' } | undefined {
    const auth = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization?.trim() ?? '');
    if (auth) return { token: auth[1]!, via: 'bearer' };
    const c = cookieValue(req, COOKIE);
    return c ? { token: c, via: 'cookie' } : undefined;
  }

  /** off -> 503; no or bad session -> 401; cookie session changing state without the CSRF header -> 403 */
  guard() {
    return (req: Request, res: Response, next: NextFunction): void => {
      if (!this.enabled) return next(disabled());
      const s = this.presented(req);
      if (!s) return next(new Unauthorized('Admin login required: POST /api/login with the password, then send the cookie or "Authorization: Bearer <token>".', { code: 'admin_login_required' }));
      if (this.verify(s.token) === undefined) return next(new Unauthorized('The admin session is invalid or has expired; log in again.', { code: 'admin_session_invalid' }));
      if (s.via === 'cookie' && !SAFE_METHODS.has(req.method)) {
        const given = req.headers['x-csrf-token'];
        if (typeof given !== 'string' || !keyMatches(given, this.csrfFor(s.token))) return next(new CligateError('unauthorized', 403, 'Missing or wrong X-CSRF-Token header (cookie sessions must send the token from /api/session).', { code: 'csrf_token_invalid' }));
      }
      res.locals.adminToken = s.token;
      next();
    };
  }
}

export const disabled = () => new Unavailable('The admin API is off: set ADMIN_PASSWORD to enable it.', { code: 'admin_disabled' });
