/**
 * When the API key question is asked (src/api-key-prompt.ts) and how its answer is kept in .env,
 * on stand-in streams (tests/cli/terminal.test.ts asks it at a real pseudo-terminal).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import os from 'node:os';
import path from 'node:path';
import { askForApiKey, rememberApiKey, whyNotAsk, type PromptIo } from '../../src/api-key-prompt.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cligate-prompt-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function terminal(supervised = false): PromptIo & { shown(): string; input: PassThrough } {
  const input = Object.assign(new PassThrough(), { isTTY: true });
  const output = Object.assign(new PassThrough(), { isTTY: true });
  let shown = '';
  output.on('data', (d: Buffer) => (shown += d.toString()));
  return { input, output, supervised, shown: () => shown };
}

describe('whether the API key question is asked', () => {
  const asks = terminal();
  it('at a terminal, with API_KEY nowhere', () => {
    expect(whyNotAsk('', {}, asks)).toBeUndefined();
  });
  it.each([
    ['a key', 'k', {}, asks, 'API_KEY is set'],
    ['API_KEY set empty (in .env or the environment): answered before', '', { API_KEY: '' }, asks, 'API_KEY is set empty'],
    ['stdin not a terminal', '', {}, { ...asks, input: new PassThrough() }, 'not a terminal'],
    ['stdout not a terminal (piped to a file)', '', {}, { ...asks, output: new PassThrough() }, 'not a terminal'],
    ['a parent with an IPC channel (node --watch)', '', {}, terminal(true), 'under a watcher'],
    ['node --watch', '', { WATCH_REPORT_DEPENDENCIES: '1' }, asks, 'under a watcher'],
    ['npm run dev (any watcher)', '', { npm_lifecycle_event: 'dev' }, asks, 'under a watcher'],
    ['NODE_ENV=production', '', { NODE_ENV: 'production' }, asks, 'NODE_ENV=production'],
    ['CI', '', { CI: 'true' }, asks, 'CI'],
  ])('not with %s', (_what, key, env, io, why) => {
    expect(whyNotAsk(key as string, env as Record<string, string>, io as PromptIo)).toBe(why);
  });
});

describe('the answer, kept in .env', () => {
  it('creates .env owner-only, or appends on a line of its own keeping what was there', async () => {
    const fresh = path.join(dir, 'fresh.env');
    expect(rememberApiKey(fresh, 'sk-cligate-x')).toBeUndefined();
    expect(await readFile(fresh, 'utf8')).toMatch(/^# .*\nAPI_KEY=sk-cligate-x\n$/);
    expect((await stat(fresh)).mode & 0o777).toBe(0o600);

    const kept = path.join(dir, 'kept.env');
    await writeFile(kept, 'PORT=9000');
    expect(rememberApiKey(kept, '')).toBeUndefined();
    expect(await readFile(kept, 'utf8')).toMatch(/^PORT=9000\n# .*empty = no key required.*\nAPI_KEY=\n$/);
  });

  it('says why it could not write', async () => {
    const locked = path.join(dir, 'locked');
    await mkdir(locked);
    await chmod(locked, 0o500);
    const err = rememberApiKey(path.join(locked, '.env'), '');
    await chmod(locked, 0o700);
    // root writes anywhere: then there is nothing to see
    if (process.getuid?.() !== 0) expect(err?.message).toMatch(/EACCES/);
  });

  it('Return: no key, API_KEY= written, said so', async () => {
    const io = terminal();
    const envFile = path.join(dir, 'return.env');
    const answer = askForApiKey('', {}, { io, envFile });
    io.input.write('\r');
    expect(await answer).toBe('');
    expect(await readFile(envFile, 'utf8')).toMatch(/^API_KEY=$/m);
    expect(io.shown()).toMatch(/Enable API key protection\? \(y\/N\)[\s\S]*No key\. Saved as API_KEY= \(empty\)/);
  });

  it('"yes": a generated key, written and shown once', async () => {
    const io = terminal();
    const envFile = path.join(dir, 'yes.env');
    const answer = askForApiKey('', {}, { io, envFile });
    io.input.write('YES\r');
    const key = await answer;
    expect(key).toMatch(/^sk-cligate-[\w-]{32}$/);
    expect(await readFile(envFile, 'utf8')).toContain(`API_KEY=${key}\n`);
    expect(io.shown().split(key).length - 1).toBe(1);
  });

  it('Ctrl-D (end of input): no key, nothing written', async () => {
    const io = terminal();
    const envFile = path.join(dir, 'eof.env');
    const answer = askForApiKey('', {}, { io, envFile });
    io.input.end();
    expect(await answer).toBe('');
    await expect(readFile(envFile, 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('not asked: the key given, nothing read or written', async () => {
    const io = terminal();
    const envFile = path.join(dir, 'never.env');
    expect(await askForApiKey('', { API_KEY: '' }, { io, envFile })).toBe('');
    expect(await askForApiKey('sk-given', {}, { io, envFile })).toBe('sk-given');
    expect(io.shown()).toBe('');
    await expect(readFile(envFile, 'utf8')).rejects.toThrow(/ENOENT/);
  });
});
