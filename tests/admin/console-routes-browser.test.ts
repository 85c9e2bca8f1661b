/**
 * The console's overview and routes editor in a real browser (Debian's chromium through
 * playwright-core): every provider on the overview, a CLI that is not installed shown as
 * such with the command that fixes it; a route added in the editor (provider picker,
 * ordered targets) listed with each target's readiness and the one that would serve; the
 * environment route read-only; the "try a model name" plan; and a chat that fell back
 * shown in the history with the target it fell back from.
 * Skipped only when no chromium is installed (.ci/run installs it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, openBrowserPage } from '../helpers/browser.js';
import { startStack, type TestStack } from '../helpers/server.js';
import { dataDirWithStore, kiroSocial } from '../helpers/accounts.js';
import { startFakeKiro, type FakeKiro, kiroEnv } from '../fakes/kiro.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai.js';
import { fetchJson } from '../helpers/net.js';

const PASSWORD = 'console-routes-5e21';

let kiro: FakeKiro;
let upstream: FakeOpenAI;
let stack: TestStack;
let dataDir: string;
let browser: Browser;
let page: Page;
let pageErrors: string[] = [];

describe.skipIf(!existsSync(CHROMIUM))('admin console: overview and routes in chromium', () => {
  beforeAll(async () => {
    kiro = await startFakeKiro([{ refresh_token: 'rt-browser-routes', auth_method: 'social' }]);
    upstream = await startFakeOpenAI();
    dataDir = await dataDirWithStore('console-routes', { accounts: kiroSocial({ 'kiro-browser': 'rt-browser-routes' }) });
    stack = await startStack({
      DATA_DIR: dataDir,
      ADMIN_PASSWORD: PASSWORD,
      ...kiroEnv(kiro),
      OPENAI_COMPATIBLE_BASE_URL: `${upstream.url}/v1`,
      OPENAI_COMPATIBLE_MODELS: 'local-llama',
      MODEL_ROUTES: 'env-route-*=openai-compatible/local-llama',
      // a CLI that is not installed
      QWEN_CLI_PATH: '/nonexistent/bin/qwen',
    });
    ({ browser, page, pageErrors } = await openBrowserPage());
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await kiro?.close();
    await upstream?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('shows every provider and the routes on the overview; a route added in the editor is listed with its readiness', async () => {
    await page.goto(`${stack.url}/admin`);
    await page.fill('#login-form input[name=password]', PASSWORD);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#tabs:not([hidden])');

    // the overview: every provider, CLIs included
    const providers = page.locator('#providers-status tr[data-provider]');
    await expect.poll(() => providers.count(), { timeout: 30_000 }).toBe(8);
    const row = (id: string) => page.locator(`#providers-status tr[data-provider="${id}"]`);
    expect(await row('qwen-cli').locator('.kind').textContent()).toBe('CLI');
    expect(await row('qwen-cli').locator('.state').textContent()).toBe('not installed');
    expect(await row('qwen-cli').locator('.detail').textContent()).toMatch(/not found.*fix: npm install -g @qwen-code\/qwen-code/);
    expect(await row('claude-cli').locator('.state').textContent()).toBe('ready');
    expect(await row('claude-cli').locator('.warm').textContent()).toBe('0');
    expect(await row('kiro').locator('.kind').textContent()).toBe('accounts');
    expect(await row('kiro').locator('.state').textContent()).toBe('1 of 1 usable');
    expect(await row('cloudcode').locator('.state').textContent()).toBe('0 of 0 usable');
    expect(await row('openai-compatible').locator('.kind').textContent()).toBe('upstream API');
    expect(await row('openai-compatible').locator('.state').textContent()).toBe('ready');
    // the environment route, and who would serve it
    const envStatus = page.locator('#routes-status tr[data-match="env-route-*"]');
    expect(await envStatus.locator('.serving').textContent()).toBe('openai-compatible/local-llama');

    // the routes editor: qwen-cli first (not installed), then kiro
    await page.click('#tabs button[data-tab=routes]');
    await page.waitForSelector('#env-route-table tr[data-match="env-route-*"]');
    expect(await page.textContent('#routes-env')).toBe('MODEL_ROUTES="env-route-*=openai-compatible/local-llama"');
    await page.click('#add-route');
    await page.fill('#route-form input[name=match]', 'browser-*');
    const targets = page.locator('#target-rows .target-row');
    await targets.nth(0).locator('select').selectOption('kiro');
    await targets.nth(0).locator('input').fill('claude-sonnet-4.5');
    await page.click('#add-target');
    await targets.nth(1).locator('select').selectOption('qwen-cli');
    await targets.nth(1).locator('input').fill('qwen3-coder-plus');
    // qwen-cli goes first
    await targets.nth(1).locator('button[title=earlier]').click();
    expect(await targets.nth(0).locator('select').inputValue()).toBe('qwen-cli');
    await page.click('#route-form button[type=submit]');

    const added = page.locator('#route-table tr[data-match="browser-*"]');
    await added.waitFor();
    expect(await added.locator('.serving').textContent()).toBe('kiro/claude-sonnet-4.5');
    const badges = added.locator('.targets .badge');
    expect(await badges.allTextContents()).toEqual(['qwen-cli/qwen3-coder-plus ✗', 'kiro/claude-sonnet-4.5']);
    expect(await badges.nth(0).getAttribute('class')).toContain('bad');
    expect(await badges.nth(0).getAttribute('title')).toMatch(/not found/);
    expect(await badges.nth(1).getAttribute('class')).toContain('ok');
    // stored through the API, first before the environment route
    const api = await fetchJson(`${stack.url}/api/routes`, { headers: { cookie: (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ') } });
    expect(api.json.stored).toEqual([{ match: 'browser-*', targets: ['qwen-cli/qwen3-coder-plus', 'kiro/claude-sonnet-4.5'] }]);

    // try a model name
    await page.fill('#route-try input[name=model]', 'browser-test');
    await page.click('#route-try button[type=submit]');
    await page.waitForSelector('#route-plan .plan li');
    expect(await page.locator('#route-plan .plan li').allTextContents()).toEqual([
      expect.stringMatching(/^qwen-cli\/qwen3-coder-plus not ready/),
      expect.stringMatching(/^kiro\/claude-sonnet-4\.5 would serve/),
    ]);
    expect(await page.textContent('#route-plan .serving')).toBe('Would be served now by kiro/claude-sonnet-4.5.');
    expect(await page.textContent('#route-plan')).not.toContain('null');
    if (process.env.CONSOLE_SCREENSHOT) await writeFile(process.env.CONSOLE_SCREENSHOT.replace(/(\.png)?$/, '-routes.png'), await page.screenshot({ fullPage: true }));

    // the overview lists the new route too
    await page.click('#tabs button[data-tab=overview]');
    await page.locator('#routes-status tr[data-match="browser-*"]').waitFor();
    expect(await page.locator('#routes-status tr[data-match="browser-*"] .serving').textContent()).toBe('kiro/claude-sonnet-4.5');
    if (process.env.CONSOLE_SCREENSHOT) await writeFile(process.env.CONSOLE_SCREENSHOT.replace(/(\.png)?$/, '-overview.png'), await page.screenshot({ fullPage: true }));

    // a chat on the route: qwen cannot start, kiro serves; the history says so
    const chat = await fetchJson(`${stack.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'browser-chat', messages: [{ role: 'user', content: 'routed' }] }) });
    expect(chat.status, chat.text).toBe(200);
    expect(chat.headers.get('x-cligate-provider')).toBe('kiro');
    await page.click('#tabs button[data-tab=history]');
    const first = page.locator('#history-table tbody tr.clickable').first();
    await first.waitFor();
    expect(await first.locator('.served').textContent()).toMatch(/^kiro after qwen-cli \d{3}$/);
    await first.click();
    await expect.poll(() => page.textContent('#history-detail .fallbacks')).toMatch(/Served by kiro after these could not: qwen-cli\/qwen3-coder-plus:\d{3}/);

    // delete it in the editor
    await page.click('#tabs button[data-tab=routes]');
    await page.locator('#route-table tr[data-match="browser-*"] button.danger').click();
    await expect.poll(() => page.locator('#route-table tr[data-match="browser-*"]').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  }, 90_000);
});
