/**
 * Client keys in the console, in a real browser (Debian's chromium through playwright-core):
 * a key made in the form with a requests-per-minute limit, its secret shown once in a marked
 * box (copied to the clipboard, or selected when the clipboard refuses), gone from the page and
 * the browser's storage once the box is closed or the page left; the secret used with the
 * official OpenAI SDK, then the key's usage today and last use in the list, its use against
 * its limits and its chart; edited, disabled (the SDK gets 401 api_key_disabled), enabled,
 * revoked and deleted from its row; an API error shown in the page; the history filtered by
 * key and the overview grouped by key.
 * Skipped only when no chromium is installed (.ci/run installs it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import OpenAI from 'openai';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, openBrowserPage } from '../helpers/browser.js';
import { startStack, type TestStack } from '../helpers/server.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai.js';

const PASSWORD = 'console-keys-7c4d';
const MASTER = 'sk-master-console-keys';

let upstream: FakeOpenAI;
let stack: TestStack;
let browser: Browser;
let page: Page;
let pageErrors: string[] = [];
const cspErrors: string[] = [];

/** everything of the page a secret could linger in: the markup, its text, form values, the selection, storage */
const pageHolds = (p: Page, secret: string) =>
  p.evaluate((s) => {
    const values = [...document.querySelectorAll('input, textarea, select')].map((e) => (e as HTMLInputElement).value);
    const storage = JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage });
    return [document.documentElement.outerHTML, document.body.innerText, values.join('\n'), String(window.getSelection()), storage].some((t) => t.includes(s));
  }, secret);

async function chat(secret: string) {
  const sdk = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: secret, maxRetries: 0 });
  return sdk.chat.completions.create({ model: 'local-llama', messages: [{ role: 'user', content: 'hi from a client key' }] });
}

/** the SDK's error for a refused key */
async function refusal(secret: string): Promise<{ status?: number; code?: string | null }> {
  try {
    await chat(secret);
  } catch (err) {
    if (err instanceof OpenAI.APIError) return { status: err.status, code: err.code };
    throw err;
  }
  throw new Error('the request was served');
}

describe.skipIf(!existsSync(CHROMIUM))('admin console: client keys in chromium', () => {
  beforeAll(async () => {
    upstream = await startFakeOpenAI({ reply: 'hello', usage: { prompt_tokens: 12, completion_tokens: 8 } });
    stack = await startStack({
      API_KEY: MASTER,
      ADMIN_PASSWORD: PASSWORD,
      OPENAI_COMPATIBLE_BASE_URL: `${upstream.url}/v1`,
      OPENAI_COMPATIBLE_MODELS: 'local-llama,other-model',
    });
    ({ browser, page, pageErrors } = await openBrowserPage());
    // the console's strict CSP: nothing it does may be refused (no inline script or style)
    page.on('console', (m) => void (/Content Security Policy/i.test(m.text()) && cspErrors.push(m.text())));
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await upstream?.close();
  });

  it('makes a key, shows its secret once, and follows its use, disabling, revoking and deleting', async () => {
    await page.goto(`${stack.url}/admin`);
    await page.fill('#login-form input[name=password]', PASSWORD);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#tabs:not([hidden])');

    await page.click('#tabs button[data-tab=keys]');
    await expect.poll(() => page.textContent('#key-table tbody')).toContain('No client keys yet.');

    // a new key, limited to 5 requests a minute and to local-* models
    await page.click('#add-key');
    await page.fill('#key-form input[name=name]', 'alice laptop');
    await page.fill('#key-form textarea[name=models]', 'local-*,\nother-model');
    await page.fill('#key-form input[name=requestsPerMinute]', '5');
    await page.click('#key-form button[type=submit]');

    // the secret, once, in its marked box
    const box = page.locator('#key-secret');
    const code = box.locator('code.secret');
    await code.waitFor();
    const secret = (await code.textContent())!;
    expect(secret).toMatch(/^cg-[A-Za-z0-9_-]{43}$/);
    expect(await box.locator('.secret-warning').textContent()).toMatch(/shown only this once.*will not be shown again/);
    expect(await page.isHidden('#key-form')).toBe(true);

    // Copy puts it on the clipboard
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.url });
    await box.locator('button.copy').click();
    await expect.poll(() => box.locator('.copy-result').textContent()).toBe('Copied to the clipboard.');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    // a clipboard that refuses: the secret is selected to copy by hand (and copied by the
    // older execCommand when the browser still allows that)
    await page.evaluate(async () => {
      await navigator.clipboard.writeText('emptied');
      navigator.clipboard.writeText = () => Promise.reject(new DOMException('denied', 'NotAllowedError'));
    });
    await box.locator('button.copy').click();
    await expect.poll(() => page.evaluate(() => String(window.getSelection()))).toBe(secret);
    const fallback = await box.locator('.copy-result').textContent();
    if (fallback === 'Copied to the clipboard.') expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    else expect(fallback).toBe('The browser did not allow copying: the secret is selected, press Ctrl+C (⌘C) to copy it.');

    // listed, with its hint, limits and models, never used
    const row = page.locator('#key-table tbody tr', { hasText: 'alice laptop' });
    await row.waitFor();
    const id = (await row.getAttribute('data-id'))!;
    const alice = page.locator(`#key-table tr[data-id="${id}"]`);
    expect(await alice.locator('.hint').textContent()).toBe(`${secret.slice(0, 7)}…`);
    expect(await alice.locator('.state').textContent()).toBe('active');
    expect(await alice.locator('.models').textContent()).toBe('local-*, other-model');
    expect(await alice.locator('.limits').textContent()).toBe('5 req/min');
    expect(await alice.locator('.last-used').textContent()).toBe('never');
    expect(await alice.locator('.today').textContent()).toBe('0 requests, 0 tokens');
    expect(await alice.locator('.expires').textContent()).toBe('never');

    // closed: gone from the page, and never stored
    await box.locator('button.dismiss').click();
    await expect.poll(() => box.isHidden()).toBe(true);
    expect(await box.locator('*').count()).toBe(0);
    expect(await pageHolds(page, secret)).toBe(false);
    expect(await page.content()).not.toContain(secret);

    // the secret works with the OpenAI SDK
    const chatStart = Date.now();
    const answer = await chat(secret);
    expect(answer.choices[0]!.message.content).toBe('hello');

    // the list shows today's use and the last use
    await page.click('#keys-refresh');
    await expect.poll(() => alice.locator('.today').textContent()).toBe('1 request, 20 tokens');
    expect(await alice.locator('.last-used').textContent()).toMatch(/^\d+ s ago$/);

    // its usage: against its limits now, and over time by model
    const usageAnswer = page.waitForResponse((r) => r.url().includes(`/api/keys/${id}/usage`));
    await alice.locator('td.name').click();
    const usage = await (await usageAnswer).json();
    // requests per minute are counted per UTC minute: the chat is this minute's unless a minute began since
    const perMinute: number = usage.use.requestsThisMinute;
    if (Math.floor(chatStart / 60_000) === Math.floor(Date.now() / 60_000)) expect(perMinute).toBe(1);
    else expect([0, 1]).toContain(perMinute);
    const detail = page.locator('#key-detail');
    await expect.poll(() => detail.locator('#key-detail-title').textContent()).toBe('Usage of alice laptop active');
    await expect.poll(() => detail.locator('[data-use="requests this minute"] .value').textContent()).toBe(`${perMinute} / 5`);
    expect(await detail.locator('[data-use="tokens today (UTC)"]').textContent()).toBe('20tokens today (UTC) (no limit)');
    expect(await detail.locator('[data-use="in flight"] .value').textContent()).toBe('0');
    expect(await detail.locator('[data-total="requests"] .value').textContent()).toBe('1');
    expect(await detail.locator('[data-total="tokens in"] .value').textContent()).toBe('12');
    expect(await detail.locator('#key-chart-requests canvas').count()).toBe(1);
    expect(await detail.locator('#key-chart-tokens canvas').count()).toBe(1);
    expect(await detail.locator('#key-chart-requests .u-legend').textContent()).toContain('local-llama');

    // edited: a daily token budget instead of the per-minute limit, one model fewer
    await alice.locator('button.edit').click();
    expect(await page.inputValue('#key-form input[name=requestsPerMinute]')).toBe('5');
    expect(await page.isVisible('#key-enabled-label')).toBe(false); // enabled or disabled from its row
    expect(await page.inputValue('#key-form textarea[name=models]')).toBe('local-*\nother-model');
    await page.fill('#key-form input[name=requestsPerMinute]', '');
    await page.fill('#key-form input[name=tokensPerDay]', '50000');
    await page.fill('#key-form textarea[name=models]', 'local-*');
    await page.click('#key-form button[type=submit]');
    await expect.poll(() => alice.locator('.limits').textContent()).toBe('50.0k tokens/day');
    expect(await alice.locator('.models').textContent()).toBe('local-*');
    // the open usage follows the change
    await expect.poll(() => detail.locator('[data-use="tokens today (UTC)"] .value').textContent()).toBe('20 / 50.0k');
    // (without that limit the minute's count is no longer added to: it is what the current minute holds)
    expect(await detail.locator('[data-use="requests this minute"]').textContent()).toMatch(/^[01]requests this minute \(no limit\)$/);

    // an error from the API is shown in the page: a second key with the same name
    await page.click('#add-key');
    expect(await page.isVisible('#key-enabled-label')).toBe(true);
    await page.fill('#key-form input[name=name]', 'alice laptop');
    await page.click('#key-form button[type=submit]');
    await expect.poll(() => page.textContent('#key-error')).toMatch(/A key named 'alice laptop' exists already/);
    expect(await box.isHidden()).toBe(true);
    await page.click('#cancel-key');

    // disabled from its row: the SDK is refused by name; enabled again, it works
    await alice.locator('button.toggle').click();
    await expect.poll(() => alice.locator('.state').textContent()).toBe('disabled');
    expect(await refusal(secret)).toEqual({ status: 401, code: 'api_key_disabled' });
    await alice.locator('button.toggle').click();
    await expect.poll(() => alice.locator('.state').textContent()).toBe('active');
    expect((await chat(secret)).choices[0]!.message.content).toBe('hello');

    // the history filtered by key: the master's chat is not among alice's
    const sdkMaster = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: MASTER, maxRetries: 0 });
    await sdkMaster.chat.completions.create({ model: 'local-llama', messages: [{ role: 'user', content: 'hi from the master key' }] });
    await page.click('#tabs button[data-tab=history]');
    await expect.poll(() => page.locator('#history-key option').allTextContents()).toEqual(['all keys', 'master (API_KEY)', 'alice laptop']);
    await expect.poll(() => page.locator('#history-table tbody tr.clickable').count()).toBe(3);
    await page.selectOption('#history-key', 'alice laptop');
    await expect.poll(() => page.locator('#history-table tbody td.key').allTextContents()).toEqual(['alice laptop', 'alice laptop']);
    await page.selectOption('#history-key', 'master');
    await expect.poll(() => page.locator('#history-table tbody td.key').allTextContents()).toEqual(['master']);

    // the overview grouped by key
    await page.click('#tabs button[data-tab=overview]');
    await page.selectOption('#group', 'key');
    await expect.poll(() => page.locator('#chart-requests .u-legend').textContent()).toMatch(/alice laptop.*master|master.*alice laptop/);

    // a second key's secret is forgotten when its page is left
    await page.click('#tabs button[data-tab=keys]');
    await page.click('#add-key');
    await page.fill('#key-form input[name=name]', 'bob');
    await page.click('#key-form button[type=submit]');
    await box.locator('code.secret').waitFor();
    const bobSecret = (await box.locator('code.secret').textContent())!;
    expect(bobSecret).toMatch(/^cg-/);
    await page.click('#tabs button[data-tab=models]');
    await page.click('#tabs button[data-tab=keys]');
    await page.locator('#key-table tbody tr', { hasText: 'bob' }).waitFor();
    expect(await box.isHidden()).toBe(true);
    expect(await pageHolds(page, bobSecret)).toBe(false);
    expect(await pageHolds(page, secret)).toBe(false);

    // revoked (after the confirmation): refused for good, no enable any more
    await alice.locator('button.revoke').click();
    await expect.poll(() => alice.locator('.state').textContent()).toBe('revoked');
    expect(await alice.locator('button.toggle').count()).toBe(0);
    expect(await refusal(secret)).toEqual({ status: 401, code: 'api_key_revoked' });

    if (process.env.CONSOLE_SCREENSHOT) await writeFile(process.env.CONSOLE_SCREENSHOT.replace(/(\.png)?$/, '-keys.png'), await page.screenshot({ fullPage: true }));

    // deleted: gone from the list, its usage closed
    await alice.locator('button.delete').click();
    await expect.poll(() => alice.count()).toBe(0);
    expect(await detail.isHidden()).toBe(true);
    expect(await page.locator('#key-table tbody tr[data-id]').allTextContents()).toEqual([expect.stringMatching(/^bob/)]);
    expect((await refusal(secret)).status).toBe(401);
    expect(await page.textContent('#keys-error')).toBe('');

    expect(await page.evaluate(() => localStorage.length + sessionStorage.length)).toBe(0);
    expect(pageErrors).toEqual([]);
    expect(cspErrors).toEqual([]);
  }, 90_000);
});
