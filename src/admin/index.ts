/**
 * The admin API (/api/...) and the web console (/admin). Everything but login and the
 * session probe sits behind AdminAuth; all input goes through zod; errors are in the
 * OpenAI error shape; answers are never cached.
 */
import path from 'node:path';
import { createRequire } from 'node:module';
import express, { type RequestHandler } from 'express';
import { z } from 'zod';
import { Unauthorized } from '../core/errors.js';
import { openaiSurface } from '../surfaces/openai/index.js';
import { AdminAuth, COOKIE, disabled } from './auth.js';
import { parse } from './validate.js';
import { jsonBody } from '../server/body.js';
import type { AdminDeps } from './deps.js';
import { accountRoutes } from './accounts.js';
import { modelRoutes } from './models.js';
import { routeRoutes } from './routes.js';
import { configRoutes } from './config-io.js';
import { insightRoutes } from './insights.js';
import { proxyRoutes } from './proxy-test.js';
import { keyRoutes } from './keys.js';

const CONSOLE_DIR = path.resolve(import.meta.dirname, '../../public/admin');
const UPLOT_DIR = path.dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'));

const loginSchema = z.strictObject({ password: z.string().min(1).max(1024) });

export function adminApi(d: AdminDeps, auth: AdminAuth, loginLimit: readonly RequestHandler[]): express.Router {
  const r = express.Router();
  r.use((req, res, next) => {
    // /api/ai/* is the Gemini backend-proxy surface, not the admin API
    if (req.path.startsWith('/ai/') || req.path === '/ai') return next('router');
    res.locals.surface = openaiSurface;
    res.set('Cache-Control', 'no-store');
    next();
  });
  // account imports may be large; a slow body still gets BODY_TIMEOUT
  r.use(jsonBody({ limit: '20mb', timeoutMs: d.config.BODY_TIMEOUT }) as unknown as RequestHandler);

  r.get('/session', (req, res) => {
    if (!auth.enabled) throw disabled();
    const s = auth.presented(req);
    const expiresAt = auth.verify(s?.token);
    res.json(expiresAt && s ? { enabled: true, authenticated: true, via: s.via, expiresAt, csrf: auth.csrfFor(s.token) } : { enabled: true, authenticated: false });
  });

  r.post('/login', ...loginLimit, (req, res) => {
    if (!auth.enabled) throw disabled();
    const { password } = parse(loginSchema, req.body, 'login');
    if (!auth.checkPassword(password)) {
      d.log.warn({ ip: req.ip }, 'admin: wrong password');
      throw new Unauthorized('Wrong admin password.', { code: 'admin_password_invalid' });
    }
    const { token, expiresAt } = auth.issue();
    res.cookie(COOKIE, token, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/', maxAge: expiresAt - Date.now() });
    d.log.info({ ip: req.ip }, 'admin: logged in');
    res.json({ token, expiresAt, csrf: auth.csrfFor(token) });
  });

  r.use(auth.guard());

  r.post('/logout', (_req, res) => {
    auth.revoke(String(res.locals.adminToken));
    res.clearCookie(COOKIE, { httpOnly: true, sameSite: 'strict', path: '/' });
    res.json({ loggedOut: true });
  });

  r.use(accountRoutes(d), modelRoutes(d), routeRoutes(d), configRoutes(d), insightRoutes(d), proxyRoutes(d), keyRoutes(d));
  return r;
}

/**
 * the console's static files, with headers that keep it from being framed or fed foreign scripts.
 * Admin off (no ADMIN_PASSWORD): every console page answers 503 with a page that says how to turn it on,
 * as the admin API answers 503 admin_disabled.
 */
export function adminConsole(auth: { readonly enabled: boolean }): express.Router {
  const r = express.Router();
  r.use((_req, res, next) => {
    res.set({
      'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
      'X-Frame-Options': 'DENY',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    });
    next();
  });
  r.use((req, res, next) => {
    if (auth.enabled || req.path === '/style.css') return next();
    res.status(503).set('Cache-Control', 'no-store').sendFile(path.join(CONSOLE_DIR, 'off.html'));
  });
  r.use('/vendor', express.static(UPLOT_DIR, { index: false, maxAge: '1d' }));
  r.use(express.static(CONSOLE_DIR, { index: 'index.html', maxAge: 0 }));
  return r;
}
