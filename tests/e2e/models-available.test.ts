/**
 * /v1/models lists what can answer now: a CLI installed and logged in (the Gemini CLI with a key),
 * not one that is installed but not logged in (Claude Code without credentials) nor one that is missing.
 * `?all=true` shows the rest marked `available: false` with the reason; GET /v1/models/{id} of such a
 * name is 200, marked the same way; the Gemini list does the same. Real server process, real CLIs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { CLAUDE_BIN, GEMINI_BIN } from '../helpers/claude-env.js';
import { spawnServer, type ServerProcess } from '../helpers/server-process.js';
import { loadConfig } from '../../src/config.js';

const defaults = loadConfig({});
let home: string;
let server: ServerProcess;

beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'cligate-models-available-'));
  server = await spawnServer({
    HOME: home,
    PATH: process.env.PATH ?? '',
    CLAUDE_CLI_PATH: CLAUDE_BIN, // installed, no credentials in this HOME
    GEMINI_CLI_PATH: GEMINI_BIN,
    GEMINI_API_KEY: 'test-key', // installed and logged in
    QWEN_CLI_PATH: path.join(home, 'no-such-qwen'),
    CODEX_CLI_PATH: path.join(home, 'no-such-codex'),
  });
}, 30_000);
afterAll(async () => {
  server?.child.kill('SIGTERM');
  await server?.exited;
  await rm(home, { recursive: true, force: true });
});

type Entry = { id: string; owned_by: string; available?: boolean; reason?: string };
const get = async (p: string) => (await fetch(`${server.url}${p}`)).json() as Promise<any>;

describe('/v1/models: what can answer now', () => {
  it('lists the logged-in CLI’s models only, in OpenAI’s shape (the OpenAI SDK reads it)', async () => {
    const ids = (await new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'x' }).models.list()).data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining([defaults.GEMINI_MODELS[1]!, `gemini-cli/${defaults.GEMINI_MODEL}`, `${defaults.GEMINI_MODEL}-progress`]));
    expect(ids.filter((id) => id.startsWith('claude') || id.startsWith('qwen') || id.startsWith('gpt') || id.startsWith('codex'))).toEqual([]);
    const body = (await get('/v1/models')) as { object: string; data: Entry[] };
    expect(body.object).toBe('list');
    // nothing marked in the plain list: every entry is available
    expect(body.data.every((m) => !('available' in m) && !('reason' in m))).toBe(true);
  }, 60_000);

  it('?all=true adds the rest, each marked with why it cannot answer', async () => {
    const body = (await get('/v1/models?all=true')) as { data: Entry[] };
    const byId = new Map(body.data.map((m) => [m.id, m]));
    expect(byId.get(defaults.GEMINI_MODELS[1]!)).toMatchObject({ available: true, owned_by: 'gemini-cli' });
    expect(byId.get(defaults.CLAUDE_MODELS[0]!)).toMatchObject({ available: false, owned_by: 'claude-cli', reason: expect.stringMatching(/not logged in: .*run `claude/) });
    expect(byId.get(`qwen-cli/${defaults.QWEN_MODEL}`)).toMatchObject({ available: false, reason: expect.stringMatching(/not found/) });
  });

  it('GET /v1/models/{id} of a known model that cannot answer now: 200, marked; an unknown one: 404', async () => {
    const r = await fetch(`${server.url}/v1/models/${defaults.CLAUDE_MODELS[0]}`);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ id: defaults.CLAUDE_MODELS[0], object: 'model', owned_by: 'claude-cli', available: false, reason: expect.stringMatching(/not logged in/) });
    const ok = await fetch(`${server.url}/v1/models/gemini-cli/${defaults.GEMINI_MODEL}`);
    expect(await ok.json()).toEqual(expect.not.objectContaining({ available: false }));
    expect((await fetch(`${server.url}/v1/models/no-such-model`)).status).toBe(404);
  });

  it('the Gemini list (/v1beta/models) the same way', async () => {
    const names = ((await get('/v1beta/models')) as { models: { name: string }[] }).models.map((m) => m.name);
    expect(names).toContain(`models/${defaults.GEMINI_MODEL}`);
    expect(names.filter((n) => n.startsWith('models/claude'))).toEqual([]);
    const all = ((await get('/v1beta/models?all=true')) as { models: { name: string; available?: boolean }[] }).models;
    expect(all.find((m) => m.name === `models/${defaults.CLAUDE_MODELS[0]}`)).toMatchObject({ available: false });
    expect(await get(`/v1beta/models/${defaults.CLAUDE_MODELS[0]}`)).toMatchObject({ name: `models/${defaults.CLAUDE_MODELS[0]}`, available: false });
  });
});
