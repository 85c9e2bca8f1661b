/**
 * `npm run accounts:import -- <file>` as a user runs it (a real child process), with realistic files of
 * the systems cligate replaces (tests/fixtures/imports, synthetic values): Business Gemini Pool's
 * business_gemini_session.json and gemini-business2api's accounts.json become gemini-enterprise
 * accounts, antigravity-claude-proxy's accounts.json cloudcode accounts; cligate then serves a
 * request with them against the fake upstreams. An invalid file writes nothing; the summary masks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import sharp from 'sharp';
import OpenAI from 'openai';
import { pino } from 'pino';
import { ROOT } from '../helpers/claude-env.js';
import { loadConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { startFakeEnterprise, type FakeEnterprise } from '../fakes/gemini-enterprise.js';
import { OAUTH, startFakeCloud, type FakeCloud, cloudcodeEnv } from '../fakes/cloudcode.js';
import { detectFormat, maskEmail, maskId } from '../../src/accounts/import.js';

const FIXTURES = path.join(ROOT, 'tests/fixtures/imports');
const fixture = async (name: string) => JSON.parse(await readFile(path.join(FIXTURES, name), 'utf8')) as any;

let dir: string;
let enterprise: FakeEnterprise;
let cloud: FakeCloud;
const servers: RunningServer[] = [];

const env = (dataDir: string) => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: dir,
  DATA_DIR: dataDir,
  CLOUDCODE_OAUTH_CLIENT_ID: OAUTH.clientId,
  CLOUDCODE_OAUTH_CLIENT_SECRET: OAUTH.clientSecret,
});
const importFile = (dataDir: string, args: string[]) =>
  execa(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/accounts.ts'), 'import', ...args], { cwd: ROOT, env: env(dataDir), extendEnv: false, reject: false, timeout: 30_000 });
const storeOf = async (dataDir: string) => JSON.parse(await readFile(path.join(dataDir, 'accounts.json'), 'utf8')) as { accounts: { id: string; provider: string; enabled: boolean; label?: string; proxy?: string; disabledReason?: string; credentials: Record<string, string> }[] };

/** cligate in-process over a DATA_DIR, its upstreams the fakes */
async function serve(dataDir: string): Promise<OpenAI> {
  const settings = {
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    RATE_LIMIT_ENABLED: 'false',
    DATA_DIR: dataDir,
    GEMINI_ENTERPRISE_AUTH_URL: enterprise.url,
    GEMINI_ENTERPRISE_API_URL: enterprise.url,
    ...cloudcodeEnv(cloud),
  };
  const server = await startServer(loadConfig(settings), pino({ level: 'silent' }), { ...env(dataDir), ...settings });
  servers.push(server);
  return new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'x', maxRetries: 0 });
}

/** every secret value in a fixture: none may appear in what the tool prints */
function secretsOf(file: any): string[] {
  const list: any[] = Array.isArray(file) ? file : file.accounts;
  return list.flatMap((a) => [a.secure_c_ses, a.host_c_oses, a.csesidx, a.refreshToken, a.apiKey, a.mail_password, a.email, ...(a.refreshToken ? String(a.refreshToken).split('|') : [])]).filter((v) => v !== undefined && v !== null && String(v).length > 6).map(String);
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cligate-accounts-import-'));
  const business = await fixture('business_gemini_session.json');
  const refreshed = await fixture('gemini-business2api-accounts.json');
  const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#336699' } }).png().toBuffer();
  enterprise = await startFakeEnterprise(
    [
      ...business.accounts.map((a: any) => ({ csesidx: a.csesidx, secure_c_ses: a.secure_c_ses, host_c_oses: a.host_c_oses, team_id: a.team_id })),
      { csesidx: refreshed[0].csesidx, secure_c_ses: refreshed[0].secure_c_ses, host_c_oses: refreshed[0].host_c_oses, team_id: refreshed[0].config_id },
    ],
    png,
  );
  const ag = await fixture('antigravity-accounts.json');
  cloud = await startFakeCloud([
    { refresh_token: ag.accounts[0].refreshToken.split('|')[0], project: 'managed-proj-alice' },
    { refresh_token: ag.accounts[1].refreshToken, project: 'bob-project-4711' },
  ]);
});
afterAll(async () => {
  for (const s of servers) await s.close(0);
  await enterprise?.close();
  await cloud?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('accounts:import', () => {
  it('business_gemini_session.json: gemini-enterprise accounts with the right credentials, a masked summary, and cligate serves a request with them', async () => {
    const dataDir = path.join(dir, 'business');
    const file = await fixture('business_gemini_session.json');
    const r = await importFile(dataDir, [path.join(FIXTURES, 'business_gemini_session.json')]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^business-gemini: 2 account\(s\) in the file: 2 added, 0 updated, 0 unchanged, 0 skipped$/m);
    expect(r.stdout).toMatch(/added +accounts\[0\] +gemini-enterprise gemini-enterprise-14…28 \(csesidx 149…828\)/);
    for (const secret of secretsOf(file)) expect(r.stdout + r.stderr).not.toContain(secret);

    const stored = (await storeOf(dataDir)).accounts.filter((a) => a.provider === 'gemini-enterprise' && a.id !== 'business-1');
    expect(stored).toHaveLength(2);
    const [one, two] = stored;
    expect(one).toMatchObject({ id: 'gemini-enterprise-1493071828', enabled: true, credentials: { team_id: file.accounts[0].team_id, secure_c_ses: file.accounts[0].secure_c_ses, host_c_oses: file.accounts[0].host_c_oses, csesidx: '1493071828', user_agent: file.accounts[0].user_agent } });
    expect(one!.disabledReason).toBeUndefined();
    // "available": false there is out of rotation here, with the reason kept
    expect(two!.disabledReason).toMatch(/marked unavailable in the imported file: 获取JWT失败: 401/);

    const client = await serve(dataDir);
    const before = enterprise.count('widgetStreamAssist', '1493071828');
    const answer = await client.chat.completions.create({ model: 'gemini-enterprise', messages: [{ role: 'user', content: 'hello from an imported account' }] });
    expect(answer.choices[0]!.message.content).toContain('Echo:');
    expect(enterprise.count('widgetStreamAssist', '1493071828')).toBe(before + 1);
  });

  it("gemini-business2api's accounts.json: the same account (team and csesidx) is updated with its fresh cookies; disabled stays disabled; mail_* is not kept; again: unchanged; --skip-existing skips", async () => {
    const dataDir = path.join(dir, 'business');
    const file = await fixture('gemini-business2api-accounts.json');
    const r = await importFile(dataDir, [path.join(FIXTURES, 'gemini-business2api-accounts.json')]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/1 added, 1 updated, 0 unchanged/);
    expect(r.stdout).toMatch(/updated +accounts\[0\] +gemini-enterprise gemini-enterprise-14…28/);
    expect(r.stdout).toMatch(/note: mail_\* fields/);
    for (const secret of secretsOf(file)) expect(r.stdout + r.stderr).not.toContain(secret);

    const accounts = (await storeOf(dataDir)).accounts;
    const updated = accounts.find((a) => a.id === 'gemini-enterprise-1493071828')!;
    expect(updated.credentials).toMatchObject({ secure_c_ses: file[0].secure_c_ses, host_c_oses: file[0].host_c_oses, team_id: file[0].config_id });
    // the user agent it had from the first file stays (gemini-business2api has none per account)
    expect(updated.credentials.user_agent).toMatch(/^Mozilla/);
    expect(JSON.stringify(accounts)).not.toContain('synthetic-mail-password-1');
    expect(accounts.find((a) => a.id === 'gemini-enterprise-account-2')).toMatchObject({ enabled: false, credentials: { csesidx: '3310457702', team_id: file[1].config_id } });

    const again = await importFile(dataDir, [path.join(FIXTURES, 'gemini-business2api-accounts.json')]);
    expect(again.stdout).toMatch(/0 added, 0 updated, 2 unchanged/);
    expect(again.stdout).toMatch(/nothing to write/);
    const skip = await importFile(dataDir, [path.join(FIXTURES, 'gemini-business2api-accounts.json'), '--skip-existing']);
    expect(skip.stdout).toMatch(/0 added, 0 updated, 0 unchanged, 2 skipped/);
  });

  it("antigravity-claude-proxy's accounts.json: cloudcode accounts (refresh token and managed project split out), an API-key account skipped and said so, and cligate serves a request with them", async () => {
    const dataDir = path.join(dir, 'antigravity');
    const file = await fixture('antigravity-accounts.json');
    const r = await importFile(dataDir, [path.join(FIXTURES, 'antigravity-accounts.json')]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^antigravity: 3 account\(s\) in the file: 2 added, 0 updated, 0 unchanged, 1 skipped$/m);
    expect(r.stdout).toMatch(/added +accounts\[0\] +cloudcode cloudcode-al…om \(al…@example\.com\)/);
    expect(r.stdout).toMatch(/skipped +accounts\[2\] .*\(ca…@example\.com\): a "manual" account has no refresh token/);
    expect(r.stdout).toMatch(/note: these refresh tokens belong to the OAuth client antigravity-claude-proxy/);
    for (const secret of secretsOf(file)) expect(r.stdout + r.stderr).not.toContain(secret);

    const stored = (await storeOf(dataDir)).accounts.filter((a) => a.provider === 'cloudcode');
    expect(stored.map((a) => [a.id, a.credentials])).toEqual([
      ['cloudcode-alice-synthetic-example-com', { refresh_token: '1//0gSynthetic-alice-refresh-token-Ab12Cd34', email: 'alice.synthetic@example.com', project_id: 'managed-proj-alice' }],
      ['cloudcode-bob-synthetic-example-com', { refresh_token: '1//0gSynthetic-bob-refresh-token-Ef56Gh78', email: 'bob.synthetic@example.com', project_id: 'bob-project-4711' }],
    ]);

    const client = await serve(dataDir);
    cloud.setScript({ reply: 'Cloud Code answers an imported account.' });
    const answer = await client.chat.completions.create({ model: 'cloudcode/gemini-3-flash', messages: [{ role: 'user', content: 'hi' }] });
    expect(answer.choices[0]!.message.content).toContain('Cloud Code answers an imported account.');
    const call = cloud.calls.find((c) => c.path.endsWith(':streamGenerateContent'))!;
    expect(['managed-proj-alice', 'bob-project-4711']).toContain(call.body.project);
  });

  it('an invalid file writes nothing: the error names each bad entry and field, the store stays byte for byte', async () => {
    const dataDir = path.join(dir, 'business');
    const before = await readFile(path.join(dataDir, 'accounts.json'));
    const r = await importFile(dataDir, [path.join(FIXTURES, 'invalid-business.json')]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/nothing was imported/);
    expect(r.stderr).toMatch(/accounts\[1\] \(csesidx 410…002\): secure_c_ses: /);
    expect(r.stderr).toMatch(/accounts\[2\] \(csesidx 410…003\): team_id: team_id \(Business Gemini Pool\) or config_id/);
    expect(r.stderr).not.toMatch(/accounts\[0\]/);
    expect(r.stderr + r.stdout).not.toContain('CSE.AXUaAj-synthetic-secure-ses-noteam-Rr44');
    expect(await readFile(path.join(dataDir, 'accounts.json'))).toEqual(before);

    // not JSON, not a known shape, a wrong --format: all refused, nothing written
    const notJson = path.join(dir, 'not.json');
    await writeFile(notJson, '{"accounts": [');
    expect((await importFile(dataDir, [notJson])).exitCode).toBe(1);
    const unknown = path.join(dir, 'unknown.json');
    await writeFile(unknown, JSON.stringify({ users: [] }));
    expect((await importFile(dataDir, [unknown])).stderr).toMatch(/not one cligate knows/);
    expect((await importFile(dataDir, [path.join(FIXTURES, 'antigravity-accounts.json'), '--format', 'business-gemini'])).exitCode).toBe(1);
    expect((await importFile(dataDir, [path.join(FIXTURES, 'antigravity-accounts.json'), '--format', 'nope'])).exitCode).toBe(2);
    expect(await readFile(path.join(dataDir, 'accounts.json'))).toEqual(before);
  });

  it('--dry-run prints the plan and writes nothing; cligate export files import their accounts', async () => {
    const dataDir = path.join(dir, 'dry');
    const dry = await importFile(dataDir, [path.join(FIXTURES, 'antigravity-accounts.json'), '--dry-run']);
    expect(dry.stdout).toMatch(/2 added/);
    expect(dry.stdout).toMatch(/dry run: nothing was written/);
    expect((await storeOf(dataDir)).accounts.some((a) => a.provider === 'cloudcode')).toBe(false);

    const exported = path.join(dir, 'export.json');
    const store = await storeOf(path.join(dir, 'antigravity'));
    await writeFile(exported, JSON.stringify({ cligate: 'config', version: 1, exportedAt: new Date().toISOString(), store }));
    const r = await importFile(dataDir, [exported]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^cligate: /m);
    expect((await storeOf(dataDir)).accounts.filter((a) => a.provider === 'cloudcode').map((a) => a.id)).toEqual(['cloudcode-alice-synthetic-example-com', 'cloudcode-bob-synthetic-example-com']);
  });

  it('format detection and masking helpers', async () => {
    expect(detectFormat(await fixture('business_gemini_session.json'))).toBe('business-gemini');
    expect(detectFormat(await fixture('gemini-business2api-accounts.json'))).toBe('business-gemini');
    expect(detectFormat({ accounts: await fixture('gemini-business2api-accounts.json') })).toBe('business-gemini');
    expect(detectFormat(await fixture('antigravity-accounts.json'))).toBe('antigravity');
    expect(detectFormat({ proxy: '', accounts: [{ id: 'x', provider: 'kiro', credentials: {} }] })).toBe('cligate');
    expect(detectFormat({ nothing: true })).toBeUndefined();
    expect(maskEmail('alice.synthetic@example.com')).toBe('al…@example.com');
    expect(maskEmail('a@b.c')).toBe('a…@b.c');
    expect(maskId('cloudcode-alice-synthetic-example-com')).toBe('cloudcode-al…om');
  });
});
