/**
 * The README's promise about the console: without ADMIN_PASSWORD the admin API and the console are off
 * (503), and the console page says how to turn it on; with a password the console is served.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startStack } from '../helpers/server.js';

const README = readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');

describe('admin console off and on', () => {
  it('without ADMIN_PASSWORD, /admin/ and every console page answer 503 with how to turn it on; the API 503 admin_disabled', async () => {
    const off = await startStack({ LOG_LEVEL: 'silent' });
    try {
      for (const p of ['/admin/', '/admin/index.html', '/admin/app.js']) {
        const r = await fetch(`${off.url}${p}`);
        expect(r.status, p).toBe(503);
        expect(r.headers.get('content-type'), p).toMatch(/text\/html/);
        const page = await r.text();
        expect(page, p).toContain('The admin console is off');
        expect(page, p).toContain('ADMIN_PASSWORD');
      }
      // the page's own style sheet still loads (the page links it)
      expect((await fetch(`${off.url}/admin/style.css`)).status).toBe(200);
      const api = await fetch(`${off.url}/api/session`);
      expect(api.status).toBe(503);
      expect((await api.json()).error.code).toBe('admin_disabled');
    } finally {
      await off.close();
    }
    // and the README says so
    expect(README).toMatch(/Without a password the admin API and\s+console are off \(every admin route, the console page included, answers 503/);
  });

  it('with ADMIN_PASSWORD the console page is served (200) with its login form', async () => {
    const on = await startStack({ LOG_LEVEL: 'silent', ADMIN_PASSWORD: 'readme-admin-pass' });
    try {
      const r = await fetch(`${on.url}/admin/`);
      expect(r.status).toBe(200);
      expect(await r.text()).toContain('id="login-form"');
    } finally {
      await on.close();
    }
  });
});
