/**
 * `npm run accounts:*` as a user runs it (a real child process), against the fake Google
 * and Cloud Code endpoints: the manual paste flow, the browser flow through the local
 * callback server, list (masked) and verify.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { ROOT } from '../helpers/claude-env.js';
import { OAUTH, startFakeCloud, type FakeCloud } from '../fakes/cloudcode.js';

let fake: FakeCloud;
let dir: string;
let env: Record<string, string>;
const cli = (args: string[], input?: string) =>
  execa(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/accounts.ts'), ...args], { cwd: ROOT, env, extendEnv: false, reject: false, timeout: 30_000, ...(input !== undefined ? { input } : {}) });

beforeAll(async () => {
  fake = await startFakeCloud([{ refresh_token: '1//manual', project: 'proj-manual' }, { refresh_token: '1//browser' }]);
  dir = await mkdtemp(path.join(os.tmpdir(), 'cligate-accounts-cli-'));
  env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    DATA_DIR: path.join(dir, 'data'),
    CLOUDCODE_OAUTH_CLIENT_ID: OAUTH.clientId,
    CLOUDCODE_OAUTH_CLIENT_SECRET: OAUTH.clientSecret,
    CLOUDCODE_AUTH_URL: `${fake.url}/consent`,
    CLOUDCODE_TOKEN_URL: `${fake.url}/token`,
    CLOUDCODE_USERINFO_URL: `${fake.url}/userinfo`,
    CLOUDCODE_ENDPOINTS: fake.roots.join(','),
  };
});
afterAll(async () => {
  await fake?.close();
  await rm(dir, { recursive: true, force: true });
});

/** what the child printed once `re` matches it (or once it exits, so a failure shows at once) */
function printedUntil(child: ReturnType<typeof execa>, re: RegExp): Promise<string> {
  let printed = '';
  return new Promise((resolve) => {
    child.stdout!.on('data', (d: Buffer) => {
      printed += d.toString();
      if (re.test(printed)) resolve(printed);
    });
    child.once('exit', () => resolve(printed));
  });
}

const store = async () => JSON.parse(await readFile(path.join(dir, 'data', 'accounts.json'), 'utf8')) as { accounts: { id: string; provider: string; credentials: Record<string, string> }[] };

describe('accounts CLI', () => {
  it('add --manual: prints a PKCE consent URL, takes the pasted redirect URL, stores the account with its project', async () => {
    // the state is only known from the URL the tool prints, so answer in two steps
    const child = execa(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/accounts.ts'), 'add', '--manual'], { cwd: ROOT, env, extendEnv: false, reject: false, timeout: 30_000 });
    const printed = await printedUntil(child, /Paste the URL/);
    const url = new URL(/^(http\S+consent\S+)$/m.exec(printed)![1]!);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('access_type')).toBe('offline');
    expect(url.searchParams.get('client_id')).toBe(OAUTH.clientId);
    child.stdin!.end(`${url.searchParams.get('redirect_uri')}?code=code-for:1//manual&state=${url.searchParams.get('state')}\n`);
    const r = await child;
    expect(r.exitCode, r.stderr).toBe(0);
    const added = (await store()).accounts.find((a) => a.credentials.refresh_token === '1//manual')!;
    expect(added).toMatchObject({ provider: 'cloudcode', credentials: { project_id: 'proj-manual', email: '1manual@example.com' } });
  });

  it('a pasted URL from another sign-in (wrong state) is refused and nothing is stored', async () => {
    const before = (await store()).accounts.length;
    const r = await cli(['add', '--manual'], 'http://localhost:51121/oauth-callback?code=code-for:1//browser&state=not-it\n');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/state does not match/);
    expect((await store()).accounts.length).toBe(before);
  });

  it('add (browser flow): the local callback server receives the redirect; the account is onboarded and stored', async () => {
    const child = execa(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/accounts.ts'), 'add', '--port', '0'], { cwd: ROOT, env, extendEnv: false, reject: false, timeout: 30_000 });
    const printed = await printedUntil(child, /consent\S+\n/);
    const url = new URL(/^(http\S+consent\S+)$/m.exec(printed)![1]!);
    const redirect = url.searchParams.get('redirect_uri')!;
    expect(redirect).toMatch(/^http:\/\/localhost:\d+\/oauth-callback$/);
    const browser = await fetch(`${redirect.replace('localhost', '127.0.0.1')}?code=code-for:1//browser&state=${url.searchParams.get('state')}`);
    expect(browser.status).toBe(200);
    const r = await child;
    expect(r.exitCode, r.stderr).toBe(0);
    const added = (await store()).accounts.find((a) => a.credentials.refresh_token === '1//browser')!;
    expect(added.credentials.project_id).toBe('onboarded-1//browser');
  });

  it('list masks secrets; verify refreshes every Cloud Code account', async () => {
    const list = await cli(['list']);
    expect(list.exitCode).toBe(0);
    expect(list.stdout).toMatch(/cloudcode-1manual-example-com\tcloudcode\tenabled/);
    expect(list.stdout).not.toContain('1//manual');
    const verify = await cli(['verify']);
    expect(verify.exitCode, verify.stdout).toBe(0);
    expect(verify.stdout.match(/^ok\t/gm)).toHaveLength(2);
  });
});
