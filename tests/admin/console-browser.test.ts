/**
 * The admin console in a real browser (Debian's chromium through playwright-core): log
 * in, add a Kiro account through the form, see it listed, run its credential test
 * against the fake Kiro, see usage drawn as charts, and a screenshot that is not blank.
 * Skipped only when no chromium is installed (.ci/run installs it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import sharp from 'sharp';
import OpenAI from 'openai';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, openBrowserPage } from '../helpers/browser.js';
import { startStack, type TestStack } from '../helpers/server.js';
import { dataDirWithStore } from '../helpers/accounts.js';
import { startFakeKiro, type FakeKiro, kiroEnv } from '../fakes/kiro.js';

const PASSWORD = 'console-pass-93b2';

let fake: FakeKiro;
let stack: TestStack;
let dataDir: string;
let browser: Browser;
let page: Page;
let pageErrors: string[] = [];

describe.skipIf(!existsSync(CHROMIUM))('admin console in chromium', () => {
  beforeAll(async () => {
    fake = await startFakeKiro([{ refresh_token: 'rt-console', auth_method: 'social' }]);
    dataDir = await dataDirWithStore('console', { accounts: [] });
    stack = await startStack({
      DATA_DIR: dataDir,
      ADMIN_PASSWORD: PASSWORD,
      ...kiroEnv(fake),
    });
    ({ browser, page, pageErrors } = await openBrowserPage());
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await fake?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('logs in, adds an account, sees it listed, tests it, and draws usage', async () => {
    await page.goto(`${stack.url}/admin`);
    await page.fill('#login-form input[name=password]', 'wrong');
    await page.click('#login-form button[type=submit]');
    await expect.poll(() => page.textContent('#login-error')).toMatch(/Wrong admin password/);
    await page.fill('#login-form input[name=password]', PASSWORD);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#tabs:not([hidden])');

    // add a Kiro account through the form
    await page.click('#tabs button[data-tab=accounts]');
    await page.click('#add-account');
    await page.selectOption('#account-form select[name=provider]', 'kiro');
    await page.fill('#account-form input[name=id]', 'kiro-console');
    await page.fill('#account-form input[name=label]', 'added in the browser');
    const rows = page.locator('#credential-rows .cred-row');
    await rows.nth(0).locator('.cred-value').fill('rt-console');
    await rows.nth(1).locator('.cred-value').fill('social');
    await page.click('#account-form button[type=submit]');
    const row = page.locator('#account-table tr[data-id="kiro-console"]');
    await row.waitFor();
    expect(await row.textContent()).toContain('added in the browser');
    expect(await row.locator('.status').textContent()).toBe('ready');
    // the secret is shown masked, and was stored whole
    expect(await page.content()).not.toContain('rt-console');

    // its test runs against the fake Kiro
    const before = fake.count('/refreshToken');
    await row.locator('button.test').click();
    await expect.poll(() => page.textContent('#notice')).toMatch(/kiro-console: OK — token refreshed/);
    expect(fake.count('/refreshToken')).toBe(before + 1);

    // traffic, then the overview draws it
    const openai = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'unused' });
    for (let i = 0; i < 3; i++) await openai.chat.completions.create({ model: 'claude-sonnet-4.5', messages: [{ role: 'user', content: `browser ${i}` }] });
    await page.click('#tabs button[data-tab=overview]');
    await page.selectOption('#range', '1:minute');
    await expect.poll(async () => page.locator('#cards .value').first().textContent()).toBe('3');
    expect(await page.locator('#chart-requests canvas').count()).toBe(1);
    expect(await page.locator('#chart-tokens canvas').count()).toBe(1);

    // the history viewer shows the chats as text
    await page.click('#tabs button[data-tab=history]');
    await page.locator('#history-table tbody tr.clickable').first().click();
    await expect.poll(() => page.textContent('#history-detail')).toMatch(/Kiro says/);

    await page.click('#tabs button[data-tab=overview]');
    await page.waitForSelector('#chart-requests canvas');
    const shot = await page.screenshot({ fullPage: true });
    if (process.env.CONSOLE_SCREENSHOT) await writeFile(process.env.CONSOLE_SCREENSHOT, shot);
    // not blank: many distinct colours, and a real spread of brightness
    const { data, info } = await sharp(shot).resize(320, null).raw().toBuffer({ resolveWithObject: true });
    const colours = new Set<number>();
    let min = 255;
    let max = 0;
    for (let i = 0; i < data.length; i += info.channels) {
      colours.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
      const y = (data[i]! + data[i + 1]! + data[i + 2]!) / 3;
      min = Math.min(min, y);
      max = Math.max(max, y);
    }
    expect(colours.size).toBeGreaterThan(50);
    expect(max - min).toBeGreaterThan(150);
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
