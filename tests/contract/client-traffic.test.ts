/**
 * Contract: every request a real client was recorded sending (tests/fixtures/clients/<client>@<version>/,
 * see its README) is replayed through its surface against every provider kind: a CLI (a stand-in
 * claude executable that speaks claude's stream-json), openai-compatible, Kiro, Cloud Code and Gemini
 * Enterprise (fakes speaking each upstream's wire format). Each must be answered 200 with a
 * well-formed body or stream in the client's dialect. The recorded bodies are replayed as they are,
 * with one change: the model name, so the request reaches the provider under test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { startStack, type TestStack } from '../helpers/server.js';
import { checkResponse, type Dialect } from '../helpers/dialects.js';
import { dataDirWithStore } from '../helpers/accounts.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai.js';
import { startFakeKiro, type FakeKiro, kiroEnv } from '../fakes/kiro.js';
import { startFakeCloud, type FakeCloud, cloudcodeEnv } from '../fakes/cloudcode.js';
import { startFakeEnterprise, type FakeEnterprise } from '../fakes/gemini-enterprise.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FIXTURES = path.join(ROOT, 'tests/fixtures/clients');
const FAKE_CLAUDE = path.join(ROOT, 'tests/fakes/bin/fake-claude.mjs');

interface Fixture {
  file: string;
  client: string;
  version: string;
  scenario: string;
  request: { method: string; path: string; query?: Record<string, string>; headers: Record<string, string>; body: Record<string, unknown> | null };
}

function loadFixtures(): Fixture[] {
  const out: Fixture[] = [];
  for (const dir of readdirSync(FIXTURES)) {
    const full = path.join(FIXTURES, dir);
    if (!statSync(full).isDirectory()) continue;
    for (const f of readdirSync(full).filter((x) => x.endsWith('.json')).sort()) {
      const fx = JSON.parse(readFileSync(path.join(full, f), 'utf8')) as Omit<Fixture, 'file'>;
      if (fx.request.method === 'POST' && fx.request.body) out.push({ ...fx, file: `${dir}/${f}` });
    }
  }
  return out;
}

/** token-count calls answer a count, not a chat */
const isCount = (p: string) => p.startsWith('/v1/messages/count_tokens') || p.endsWith(':countTokens');

function dialectOf(p: string): Dialect | undefined {
  if (p.startsWith('/v1/messages')) return 'anthropic';
  if (p.startsWith('/v1/chat/completions')) return 'openai';
  if (p.startsWith('/v1/responses')) return 'responses';
  if (p.startsWith('/v1beta/models/')) return 'gemini';
  return undefined;
}

/** the provider kinds, each with a model name it serves */
const KINDS = [
  { kind: 'cli (claude stand-in)', model: 'claude-cli/claude-sonnet-4-5' },
  { kind: 'openai-compatible', model: 'contract-model' },
  { kind: 'kiro', model: 'claude-sonnet-4.5' },
  { kind: 'cloudcode', model: 'claude-sonnet-4-5-thinking' },
  { kind: 'gemini-enterprise', model: 'gemini-enterprise' },
];
/** providers that run a client's hosted web search themselves (the claude CLI, with its WebSearch tool) */
const RUNS_WEB_SEARCH = new Set(['cli (claude stand-in)']);

const fixtures = loadFixtures().filter((f) => dialectOf(f.request.path.split('?')[0]!));

let openai: FakeOpenAI;
let kiro: FakeKiro;
let cloud: FakeCloud;
let enterprise: FakeEnterprise;
let stack: TestStack;
let dataDir: string;

beforeAll(async () => {
  openai = await startFakeOpenAI();
  openai.setScript({ reply: 'contract answer' });
  kiro = await startFakeKiro([{ refresh_token: 'rt-contract', auth_method: 'social' }]);
  cloud = await startFakeCloud([{ refresh_token: '1//rt-contract', project: 'proj-contract' }]);
  const ge = { csesidx: '1', secure_c_ses: 'CSE.contract', host_c_oses: 'COS.contract', team_id: 'team-contract' };
  enterprise = await startFakeEnterprise([ge], await sharp({ create: { width: 4, height: 4, channels: 3, background: '#000' } }).png().toBuffer());
  dataDir = await dataDirWithStore('contract', {
    accounts: [
      { id: 'kiro-1', provider: 'kiro', credentials: { refresh_token: 'rt-contract', auth_method: 'social' } },
      { id: 'cc-1', provider: 'cloudcode', credentials: { refresh_token: '1//rt-contract', email: 'c@example.com', project_id: 'proj-contract' } },
      { id: 'ge-1', provider: 'gemini-enterprise', credentials: { ...ge, user_agent: 'contract' } },
    ],
  });
  stack = await startStack({
    DATA_DIR: dataDir,
    CLAUDE_CLI_PATH: FAKE_CLAUDE,
    OPENAI_COMPATIBLE_BASE_URL: `${openai.url}/v1`,
    OPENAI_COMPATIBLE_MODELS: 'contract-model',
    ...kiroEnv(kiro),
    ...cloudcodeEnv(cloud),
    GEMINI_ENTERPRISE_AUTH_URL: enterprise.url,
    GEMINI_ENTERPRISE_API_URL: enterprise.url,
    // the recorded requests are large (Claude Code: ~25 tools, Codex: long instructions)
    BODY_LIMIT: '20mb',
  });
}, 60_000);
afterAll(async () => {
  await stack?.close();
  await Promise.all([openai?.close(), kiro?.close(), cloud?.close(), enterprise?.close()]);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** the recorded request with the model under test; a hosted web search only where the provider runs it */
function replay(f: Fixture, kind: string, model: string): { url: string; headers: Record<string, string>; body: Record<string, unknown> } {
  const body = structuredClone(f.request.body!);
  let p = f.request.path;
  // a provider-qualified name goes in the path encoded (provider%2Fmodel), as a Gemini client sends it
  if (p.startsWith('/v1beta/models/')) p = p.replace(/^\/v1beta\/models\/[^:]+:/, `/v1beta/models/${encodeURIComponent(model)}:`);
  else body.model = model;
  // Codex declares web_search unless configured off (the README's Codex configuration turns it off)
  if (!RUNS_WEB_SEARCH.has(kind) && Array.isArray(body.tools)) body.tools = (body.tools as { type: string }[]).filter((t) => !t.type?.startsWith('web_search'));
  const query = new URLSearchParams(f.request.query ?? {}).toString();
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(f.request.headers)) if (!['host', 'content-length', 'authorization', 'x-api-key'].includes(k)) headers[k] = v;
  headers['content-type'] = 'application/json';
  return { url: `${stack.url}${p.split('?')[0]}${query ? `?${query}` : ''}`, headers, body };
}

describe('recorded client traffic', () => {
  it('has fixtures from every client the README lists', () => {
    const clients = new Set(fixtures.map((f) => f.client));
    for (const c of ['claude-code', 'codex', 'gemini-cli']) expect(clients, `fixtures of ${c}`).toContain(c);
  });

  describe.each(KINDS)('against $kind', ({ kind, model }) => {
    it.each(fixtures.map((f) => [f.file, f] as const))('%s', async (_name, f) => {
      const { url, headers, body } = replay(f, kind, model);
      const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
      const text = await res.text();
      const dialect = dialectOf(f.request.path.split('?')[0]!)!;
      if (isCount(f.request.path.split('?')[0]!)) {
        expect(res.status, `${f.file} on ${kind}: ${text.slice(0, 400)}`).toBe(200);
        const count = JSON.parse(text) as { input_tokens?: number; totalTokens?: number };
        expect(count.input_tokens ?? count.totalTokens).toBeGreaterThan(0);
        return;
      }
      const stream = dialect === 'gemini' ? f.request.path.includes('streamGenerateContent') : body.stream === true;
      expect(res.status, `${f.file} on ${kind}: ${text.slice(0, 400)}`).toBe(200);
      expect(checkResponse(dialect, stream, res.status, res.headers.get('content-type') ?? '', text), `${f.file} on ${kind}`).toBeUndefined();
    });
  });
});
