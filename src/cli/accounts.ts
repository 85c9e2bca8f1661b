/**
 * cligate account tools (Cloud Code accounts; the store is shared by every API provider):
 *
 *   npm run accounts:add -- [--manual] [--port 51121]   sign in with Google and store the account
 *   npm run accounts:list                                 every stored account, secrets masked
 *   npm run accounts:verify                               refresh each Cloud Code token and find its project
 *   npm run accounts:import -- <file> [--format F] [--skip-existing] [--dry-run]
 *                                                         accounts from another system's file (src/accounts/import.ts):
 *                                                         Business Gemini Pool / gemini-business2api, antigravity-claude-proxy,
 *                                                         cligate's own export; validated in full, written at once or not at all
 *
 * --manual is for headless servers: open the printed URL anywhere, sign in, and paste the
 * URL the browser ends on (it fails to load; that is expected) back here.
 */
import { createInterface } from 'node:readline/promises';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { config as loadDotenv } from 'dotenv';
import { loadConfig } from '../config.js';
import { AccountStore } from '../accounts/store.js';
import { maskAccount } from '../accounts/mask.js';
import { IMPORT_FORMATS, ImportError, parseImport, planImport, summaryLines, type ImportFormat } from '../accounts/import.js';
import { discoverProject, refreshAccessToken } from '../providers/cloudcode/client.js';
import { PROVIDER_ID } from '../providers/cloudcode/index.js';
import { authorizationUrl, callbackServer, codeFromPaste, exchangeCode } from './oauth-google.js';

loadDotenv({ quiet: true });
const out = (s: string) => process.stdout.write(`${s}\n`);

/** how each pool gets its accounts */
const ADD_ACCOUNTS = [
  'Add accounts:',
  '  cloudcode (Google Cloud Code / Antigravity): npm run accounts:add (a Google sign-in; needs CLOUDCODE_OAUTH_CLIENT_ID and CLOUDCODE_OAUTH_CLIENT_SECRET),',
  '    or npm run accounts:import <antigravity-claude-proxy accounts.json>',
  '  kiro (Kiro / Amazon Q): the console (/admin, with ADMIN_PASSWORD set) > Accounts > Add account, with the refresh token of a Kiro login',
  '  gemini-enterprise (Gemini Enterprise business accounts): the console, or npm run accounts:import <Business Gemini Pool / gemini-business2api accounts file>',
  '  (npm run accounts:import without a file lists the formats it reads)',
].join('\n');

/** what to set, and where an OAuth client for Cloud Code sign-ins comes from */
function NO_OAUTH_CLIENT(client: { clientId: string; clientSecret: string }): string {
  const missing = [!client.clientId && 'CLOUDCODE_OAUTH_CLIENT_ID', !client.clientSecret && 'CLOUDCODE_OAUTH_CLIENT_SECRET'].filter(Boolean).join(' and ');
  return [
    `accounts add: ${missing} ${missing.includes(' and ') ? 'are' : 'is'} not set. A Cloud Code account is a Google sign-in to an OAuth client, and its refresh`,
    'token works only with the client it was issued to. Set both in .env (or the environment), then run this again. Which client:',
    '  1. Antigravity\'s installed-app client, to reach the models Antigravity has (Claude and Gemini 3): the client ID',
    '     and secret your Antigravity install signs in with; antigravity-claude-proxy carries them (OAUTH_CONFIG in its',
    '     src/constants.js). Accounts imported from antigravity-claude-proxy need this client.',
    '  2. The Gemini CLI\'s installed-app client (Gemini Code Assist models): in your own install,',
    '       grep -ho \'OAUTH_CLIENT_[A-Z]* = "[^"]*"\' "$(npm root -g)/@google/gemini-cli/bundle/"*.js',
    '  3. Your own: Google Cloud console > APIs & Services > Credentials > Create credentials > OAuth client ID, application',
    '     type "Desktop app" (set up the consent screen first; while it is in testing, add your Google account as a test user).',
    '     A Desktop client accepts the loopback redirect this command uses, http://localhost:<port>/oauth-callback',
    '     (port 51121, or --port N), without registering it; a "Web application" client must list that exact URI.',
    '     Cloud Code answers such a client only for a project with Gemini Code Assist (cloudaicompanion.googleapis.com) enabled.',
    'Then: npm run accounts:add (opens a sign-in URL; --manual on a machine without a browser: paste the URL you end on).',
  ].join('\n');
}

async function main(): Promise<number> {
  const [command, ...rest] = process.argv.slice(2);
  const config = loadConfig(process.env);
  const store = await AccountStore.open(path.resolve(config.DATA_DIR));
  const client = { clientId: config.CLOUDCODE_OAUTH_CLIENT_ID, clientSecret: config.CLOUDCODE_OAUTH_CLIENT_SECRET };
  const endpoints = { token: config.CLOUDCODE_TOKEN_URL, api: config.CLOUDCODE_ENDPOINTS };
  // as the server chooses it: the account's proxy, the store's, UPSTREAM_PROXY
  const proxyOf = (a?: { proxy?: string }) => a?.proxy || store.proxy || config.UPSTREAM_PROXY || undefined;

  if (command === 'import') {
    const file = rest.find((x, i) => !x.startsWith('--') && rest[i - 1] !== '--format');
    const format = rest.includes('--format') ? rest[rest.indexOf('--format') + 1] : undefined;
    if (!file || (rest.includes('--format') && !IMPORT_FORMATS.includes(format as ImportFormat))) {
      out(`usage: accounts import <file> [--format ${IMPORT_FORMATS.join('|')}] [--skip-existing] [--dry-run]`);
      return 2;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(file, 'utf8'));
    } catch (err) {
      process.stderr.write(`accounts import: ${file}: ${(err as Error).message}; nothing was imported\n`);
      return 1;
    }
    try {
      const parsed = parseImport(raw, format as ImportFormat | undefined);
      const { data, rows } = planImport(store.snapshot(), parsed, { skipExisting: rest.includes('--skip-existing') });
      for (const line of summaryLines(parsed, rows)) out(line);
      if (parsed.format === 'antigravity' && (!config.CLOUDCODE_OAUTH_CLIENT_ID || !config.CLOUDCODE_OAUTH_CLIENT_SECRET)) out('note: CLOUDCODE_OAUTH_CLIENT_ID / CLOUDCODE_OAUTH_CLIENT_SECRET are not set here');
      const changed = rows.some((r) => r.action === 'added' || r.action === 'updated');
      if (rest.includes('--dry-run')) out('dry run: nothing was written');
      else if (changed) {
        await store.replace(data);
        out(`written to ${store.file}. A running cligate does not see this (and its next change to the store would overwrite it): restart it now, or stop it before importing`);
      } else out('nothing to write');
      return 0;
    } catch (err) {
      if (!(err instanceof ImportError)) throw err;
      process.stderr.write(`accounts import: ${file}: ${err.message}\n`);
      return 1;
    }
  }

  if (command === 'list') {
    const rows = store.accounts().map(maskAccount);
    if (!rows.length) out(`No accounts in ${store.file}.`);
    for (const a of rows) {
      out(`${a.id}\t${a.provider}\t${a.enabled ? 'enabled' : 'disabled'}\tweight ${a.weight}${a.credentials.email ? `\t${a.credentials.email}` : ''}${a.disabledReason ? `\tunavailable: ${a.disabledReason}` : ''}`);
    }
    return 0;
  }

  if (command === 'verify') {
    let failed = 0;
    const cloudcode = store.accounts(PROVIDER_ID);
    if (!cloudcode.length) {
      const others = store.accounts();
      out(others.length
        ? `No Cloud Code accounts in ${store.file}: verify checks Cloud Code accounts (their refresh tokens). The ${others.length} other account${others.length === 1 ? '' : 's'} (${[...new Set(others.map((a) => a.provider))].join(', ')}) ${others.length === 1 ? 'is' : 'are'} tested in the console (/admin, "Test") or by POST /api/accounts/{id}/test.`
        : `No accounts to verify: ${store.file} has none.`);
      out(ADD_ACCOUNTS);
      return 0;
    }
    for (const a of cloudcode) {
      try {
        const { accessToken } = await refreshAccessToken(endpoints.token, client, a.credentials.refresh_token ?? '', proxyOf(a));
        const project = a.credentials.project_id || (await discoverProject(endpoints, accessToken, proxyOf(a)));
        const { disabledReason: _gone, ...ok } = a;
        await store.upsert({ ...ok, credentials: { ...a.credentials, project_id: project } });
        out(`ok\t${a.id}\tproject ${project}`);
      } catch (err) {
        failed++;
        await store.update(a.id, { disabledReason: (err as Error).message });
        out(`FAIL\t${a.id}\t${(err as Error).message}`);
      }
    }
    return failed ? 1 : 0;
  }

  if (command === 'add') {
    if (!client.clientId || !client.clientSecret) {
      process.stderr.write(`${NO_OAUTH_CLIENT(client)}\n`);
      return 2;
    }
    const manual = rest.includes('--manual');
    const portArg = rest[rest.indexOf('--port') + 1];
    const port = rest.includes('--port') ? Number(portArg) : 51121;
    let code: string;
    let auth;
    if (manual) {
      auth = authorizationUrl(config.CLOUDCODE_AUTH_URL, client.clientId, `http://localhost:${port}/oauth-callback`);
      out(`Open this URL in any browser and sign in:\n\n${auth.url}\n`);
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      const pasted = await rl.question('Paste the URL the browser ended on: ');
      rl.close();
      code = codeFromPaste(pasted, auth.state);
    } else {
      // listen first: the redirect URL names the port actually bound
      let expected = '';
      const cb = await callbackServer(port, () => expected);
      auth = authorizationUrl(config.CLOUDCODE_AUTH_URL, client.clientId, `http://localhost:${cb.port}/oauth-callback`);
      expected = auth.state;
      out(`Open this URL in a browser on this machine and sign in (waiting for the redirect on port ${cb.port}):\n\n${auth.url}\n`);
      try {
        code = await cb.code;
      } finally {
        cb.close();
      }
    }
    const tokens = await exchangeCode(config.CLOUDCODE_TOKEN_URL, client, code, auth.verifier, auth.redirectUri);
    const email = await fetch(config.CLOUDCODE_USERINFO_URL, { headers: { authorization: `Bearer ${tokens.accessToken}` } })
      .then(async (r) => (r.ok ? ((await r.json()) as { email?: string }).email : undefined))
      .catch(() => undefined);
    const project = await discoverProject(endpoints, tokens.accessToken, proxyOf());
    const id = `cloudcode-${(email ?? project).replace(/[^a-zA-Z0-9]+/g, '-').toLowerCase()}`;
    await store.upsert({ id, provider: PROVIDER_ID, enabled: true, weight: 100, credentials: { refresh_token: tokens.refreshToken, project_id: project, ...(email ? { email } : {}) } });
    out(`Added ${id}${email ? ` (${email})` : ''}, project ${project}, to ${store.file}.`);
    return 0;
  }

  out(`usage: accounts add [--manual] [--port N] | accounts list | accounts verify | accounts import <file> [--format ${IMPORT_FORMATS.join('|')}] [--skip-existing] [--dry-run]`);
  return 2;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`accounts: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
