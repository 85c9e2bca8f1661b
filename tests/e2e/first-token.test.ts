/**
 * FIRST_TOKEN_TIMEOUT: a silent upstream does not hold a request until MAX_TIMEOUT.
 * A CLI provider answers 504 and its process tree is killed; an API provider moves on to
 * the next account.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import OpenAI from 'openai';
import { startStack, processTree, isAlive, waitFor, type TestStack } from '../helpers/server.js';
import { dataDirWithStore } from '../helpers/accounts.js';
import { startFakeEnterprise, type FakeEnterprise } from '../fakes/gemini-enterprise.js';
import { livePids } from '../../src/runtime/process.js';
import { liveSandboxes } from '../../src/runtime/sandbox.js';
import { backgroundSettled } from '../../src/runtime/background.js';

const accounts = [
  { csesidx: '501', secure_c_ses: 'CSE.a', host_c_oses: 'COS.a', team_id: 't1' },
  { csesidx: '502', secure_c_ses: 'CSE.b', host_c_oses: 'COS.b', team_id: 't2' },
];
let stack: TestStack;
let fake: FakeEnterprise;
let dataDir: string;

beforeAll(async () => {
  fake = await startFakeEnterprise(accounts, await sharp({ create: { width: 2, height: 2, channels: 3, background: '#000' } }).png().toBuffer());
  dataDir = await dataDirWithStore('ftt', { accounts: accounts.map((a, i) => ({ id: `ge-${i}`, provider: 'gemini-enterprise', credentials: a })) });
  stack = await startStack({ FIRST_TOKEN_TIMEOUT: '1.5', MAX_TIMEOUT: '600000', DATA_DIR: dataDir, GEMINI_ENTERPRISE_AUTH_URL: fake.url, GEMINI_ENTERPRISE_API_URL: fake.url });
});
afterAll(async () => {
  await stack?.close();
  await fake?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('first-token timeout', () => {
  it('a CLI whose upstream never answers: 504 first_token_timeout, the CLI tree killed, the sandbox gone', async () => {
    stack.fake.setScript({ hang: true });
    let tree: number[] = [];
    const watcher = waitFor(async () => {
      const [pid] = livePids();
      if (pid) tree = await processTree(pid);
      return tree.length > 0;
    }, 5000);
    const err = await new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'x', maxRetries: 0 }).chat.completions.create({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    await watcher;
    stack.fake.setScript({});
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(504);
    expect((err as InstanceType<typeof OpenAI.APIError>).code).toBe('first_token_timeout');
    expect((err as Error).message).toMatch(/FIRST_TOKEN_TIMEOUT/);
    expect(tree.length).toBeGreaterThan(0);
    expect(await waitFor(() => tree.every((p) => !isAlive(p)), 2000)).toBe(true);
    await backgroundSettled();
    expect(liveSandboxes()).toEqual([]);
  });

  it('an API account that stalls before its first byte: the request moves to the next account', async () => {
    fake.setScript({ stall: ['501'], reply: 'from the other account' });
    const before = fake.calls.length;
    const r = await new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'x', maxRetries: 0 }).chat.completions.create({ model: 'gemini-enterprise', messages: [{ role: 'user', content: 'hi' }] });
    expect(r.choices[0]!.message.content).toBe('from the other account');
    expect(fake.calls.slice(before).filter((c) => c.path.endsWith('widgetStreamAssist')).map((c) => c.csesidx)).toEqual(['501', '502']);
  });
});
