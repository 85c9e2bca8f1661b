/**
 * The upstream proxy: SOCKS (5, 5h, 4, 4a, with and without login) and HTTP proxies really carry
 * account-pool requests; UPSTREAM_PROXY (and Kiro gateway's VPN_PROXY_URL, read as it) is the
 * default for every account-pool request, an account's own proxy wins; the proxy check speaks
 * SOCKS too. Real local servers: a SOCKS server, an HTTP forward proxy, the fake Kiro upstream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { fetch } from 'undici';
import OpenAI from 'openai';
import { closeDispatchers, fetchVia, proxyDispatcher } from '../../src/accounts/http.js';
import { loadConfig } from '../../src/config.js';
import { applyLegacyEnv, noticeMessage } from '../../src/legacy-env.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { startSocksServer, type SocksServer } from '../fakes/socks5.js';
import { startForwardProxy, type ForwardProxy } from '../fakes/forward-proxy.js';
import { startFakeKiro, type FakeKiro, kiroEnv } from '../fakes/kiro.js';
import { dataDirWithStore, kiroSocial } from '../helpers/accounts.js';
import { fetchJson } from '../helpers/net.js';
import { spawnServer } from '../helpers/server-process.js';

let target: http.Server;
let targetUrl = '';
let targetHost = '';
let socks: SocksServer;
let socksAuth: SocksServer;
let httpProxy: ForwardProxy;
/** an account's own proxy (a proxy of its own: connections through a proxy are kept alive and reused) */
let ownProxy: ForwardProxy;
let kiro: FakeKiro;
let kiroHost = '';
const dirs: string[] = [];
const servers: RunningServer[] = [];

beforeAll(async () => {
  target = http.createServer((req, res) => res.end(`target saw ${req.url}`));
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  targetHost = `127.0.0.1:${(target.address() as AddressInfo).port}`;
  targetUrl = `http://${targetHost}`;
  socks = await startSocksServer();
  socksAuth = await startSocksServer({ user: 'vpn-user', password: 'vpn-pass-5e1' });
  httpProxy = await startForwardProxy();
  ownProxy = await startForwardProxy();
  kiro = await startFakeKiro([
    { refresh_token: 'rt-proxy-a', auth_method: 'social' },
    { refresh_token: 'rt-proxy-own', auth_method: 'social' },
  ]);
  kiroHost = new URL(kiro.url).host;
});
afterAll(async () => {
  for (const s of servers) await s.close(0);
  await closeDispatchers();
  await Promise.all([socks?.close(), socksAuth?.close(), httpProxy?.close(), ownProxy?.close(), kiro?.close()]);
  target?.closeAllConnections();
  await new Promise((r) => target?.close(r));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** cligate in-process with a Kiro account store; `env` is its environment, legacy names read as main.ts reads them */
async function cligate(accounts: object[], env: Record<string, string>) {
  const home = await mkdtemp(path.join(os.tmpdir(), 'cligate-upstream-proxy-'));
  const dataDir = await dataDirWithStore('upstream-proxy', { accounts });
  dirs.push(home, dataDir);
  const settings = {
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    RATE_LIMIT_ENABLED: 'false',
    DATA_DIR: dataDir,
    ...kiroEnv(kiro),
    ...env,
  };
  const server = await startServer(loadConfig(applyLegacyEnv(settings).env), pino({ level: 'silent' }), { HOME: home, PATH: process.env.PATH ?? '/usr/bin:/bin', ...settings });
  servers.push(server);
  return { server, openai: new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'x', maxRetries: 0 }) };
}

const ask = (o: OpenAI, text: string) => o.chat.completions.create({ model: 'claude-sonnet-4.5', messages: [{ role: 'user', content: text }] });
const socksTargets = (s: SocksServer) => s.tunnels.map((t) => t.target);

describe('SOCKS proxies carry requests', () => {
  it('socks5, socks5h, socks (= 5), socks4 and socks4a reach the target; host names go to the proxy to resolve', async () => {
    for (const scheme of ['socks5', 'socks5h', 'socks', 'socks4', 'socks4a']) {
      const before = socks.tunnels.length;
      const proxy = `${scheme}://127.0.0.1:${socks.port}`;
      expect(await (await fetchVia(proxy, `${targetUrl}/${scheme}`)).text(), scheme).toBe(`target saw /${scheme}`);
      expect(socks.tunnels.slice(before).map((t) => [t.version, t.target]), scheme).toEqual([[scheme.startsWith('socks4') ? 4 : 5, targetHost]]);
    }
    // a name, not an address: the proxy resolves it (socks5h / socks4a behaviour for every scheme)
    const port = targetHost.split(':')[1];
    for (const scheme of ['socks5', 'socks4a']) {
      const before = socks.tunnels.length;
      expect(await (await fetchVia(`${scheme}://127.0.0.1:${socks.port}`, `http://localhost:${port}/by-name`)).text()).toBe('target saw /by-name');
      expect(socks.tunnels.slice(before)).toEqual([expect.objectContaining({ target: `localhost:${port}`, addressType: 'domain' })]);
    }
  });

  it('socks5 with a user name and password logs in; a wrong password fails', async () => {
    const good = `socks5://vpn-user:vpn-pass-5e1@127.0.0.1:${socksAuth.port}`;
    expect(await (await fetchVia(good, `${targetUrl}/login`)).text()).toBe('target saw /login');
    expect(socksAuth.tunnels.at(-1)).toMatchObject({ user: 'vpn-user', target: targetHost });
    const bad = proxyDispatcher(`socks5://vpn-user:wrong@127.0.0.1:${socksAuth.port}`);
    try {
      await expect(fetch(`${targetUrl}/nope`, { dispatcher: bad })).rejects.toThrow();
    } finally {
      await bad.close();
    }
  });

  it('a URL of a scheme cligate cannot use is refused by name', () => {
    expect(() => proxyDispatcher('ftp://127.0.0.1:21')).toThrow(/not a proxy URL cligate can use.*socks5h:\/\//);
    expect(() => proxyDispatcher('socks5://user:secret-pw@')).toThrow(/not a proxy URL/);
    expect(() => proxyDispatcher('socks5://user:secret-pw@')).not.toThrow(/secret-pw/);
  });
});

describe('UPSTREAM_PROXY and its legacy name VPN_PROXY_URL', () => {
  it('configuration: VPN_PROXY_URL is read as UPSTREAM_PROXY (a bare host:port means http://); UPSTREAM_PROXY wins; a bad one names both; the notice masks a password', () => {
    const read = (env: Record<string, string>) => loadConfig(applyLegacyEnv(env).env).UPSTREAM_PROXY;
    expect(read({ VPN_PROXY_URL: 'socks5://127.0.0.1:1080' })).toBe('socks5://127.0.0.1:1080');
    expect(read({ VPN_PROXY_URL: '192.168.1.100:8080' })).toBe('http://192.168.1.100:8080');
    expect(read({ UPSTREAM_PROXY: 'http://a:1', VPN_PROXY_URL: 'socks5://b:2' })).toBe('http://a:1');
    expect(read({ UPSTREAM_PROXY: '10.0.0.1:3128' })).toBe('http://10.0.0.1:3128');
    expect(read({})).toBe('');
    expect(() => applyLegacyEnv({ VPN_PROXY_URL: 'ftp://x:1' })).toThrow(/VPN_PROXY_URL \(Kiro gateway's name for UPSTREAM_PROXY\)/);
    expect(() => loadConfig({ UPSTREAM_PROXY: 'ftp://x:1' })).toThrow(/UPSTREAM_PROXY: an http\(s\):\/\/, socks5\(h\)/);
    const [set] = applyLegacyEnv({ VPN_PROXY_URL: 'socks5://vpn-user:vpn-secret-9@127.0.0.1:1080' }).notices;
    expect(noticeMessage(set!)).toMatch(/^VPN_PROXY_URL is Kiro gateway's name; read as UPSTREAM_PROXY=socks5:\/\/vpn-user:\*\*\*\*@127\.0\.0\.1:1080/);
    const [overridden] = applyLegacyEnv({ VPN_PROXY_URL: 'socks5://x:1', UPSTREAM_PROXY: 'http://u:upstream-secret@y:2' }).notices;
    expect(overridden).toMatchObject({ outcome: 'overridden' });
    expect(noticeMessage(overridden!)).not.toContain('upstream-secret');
  });

  it('VPN_PROXY_URL=socks5://… (cligate started as npm start runs it): a Kiro request (token refresh and chat) goes through the SOCKS proxy; the start log names UPSTREAM_PROXY', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'cligate-upstream-proxy-'));
    const dataDir = await dataDirWithStore('upstream-proxy', { accounts: kiroSocial({ 'kiro-a': 'rt-proxy-a' }) });
    dirs.push(home, dataDir);
    const proc = await spawnServer({
      HOME: home,
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      DATA_DIR: dataDir,
      API_KEY: 'k',
      VPN_PROXY_URL: socks.url,
      ...kiroEnv(kiro),
    });
    try {
      const openai = new OpenAI({ baseURL: `${proc.url}/v1`, apiKey: 'k', maxRetries: 0 });
      const before = socks.tunnels.length;
      const r = await ask(openai, 'through socks');
      expect(r.choices[0]!.message.content).toMatch(/^Kiro says: through socks/);
      const seen = socksTargets(socks).slice(before);
      expect(seen.length).toBeGreaterThan(0);
      expect(new Set(seen)).toEqual(new Set([kiroHost]));
      expect(kiro.count('/refreshToken', 'rt-proxy-a')).toBeGreaterThan(0);
      expect(proc.output()).toContain(`VPN_PROXY_URL is Kiro gateway's name; read as UPSTREAM_PROXY=${socks.url}`);
    } finally {
      proc.child.kill('SIGTERM');
      await proc.exited;
    }
  });

  it('VPN_PROXY_URL=http://…: the same request goes through the HTTP proxy', async () => {
    const { openai } = await cligate(kiroSocial({ 'kiro-a': 'rt-proxy-a' }), { VPN_PROXY_URL: httpProxy.url });
    const before = httpProxy.plain.length + httpProxy.tunnels.length;
    const socksBefore = socks.tunnels.length;
    expect((await ask(openai, 'through http')).choices[0]!.message.content).toMatch(/^Kiro says: through http/);
    expect(httpProxy.plain.length + httpProxy.tunnels.length).toBeGreaterThan(before);
    expect([...httpProxy.plain, ...httpProxy.tunnels].some((u) => u.includes(kiroHost))).toBe(true);
    expect(socks.tunnels.length).toBe(socksBefore);
  });

  it("an account's own proxy wins over VPN_PROXY_URL", async () => {
    const [own] = kiroSocial({ 'kiro-own': 'rt-proxy-own' });
    const { openai } = await cligate([{ ...own, proxy: ownProxy.url }], { VPN_PROXY_URL: socks.url });
    const socksBefore = socks.tunnels.length;
    expect((await ask(openai, 'own proxy')).choices[0]!.message.content).toMatch(/^Kiro says: own proxy/);
    expect([...ownProxy.plain, ...ownProxy.tunnels].some((u) => u.includes(kiroHost))).toBe(true);
    expect(socks.tunnels.length).toBe(socksBefore);
  });

  it('without UPSTREAM_PROXY the request goes direct', async () => {
    const { openai } = await cligate(kiroSocial({ 'kiro-a': 'rt-proxy-a' }), {});
    const before = socks.tunnels.length + httpProxy.plain.length + httpProxy.tunnels.length;
    expect((await ask(openai, 'direct')).choices[0]!.message.content).toMatch(/^Kiro says: direct/);
    expect(socks.tunnels.length + httpProxy.plain.length + httpProxy.tunnels.length).toBe(before);
  });
});

describe('POST /api/proxy/test with SOCKS', () => {
  it('checks a given socks5 proxy (with login), falls back to UPSTREAM_PROXY, and reports a refused login as not ok', async () => {
    const { server } = await cligate([], { ADMIN_PASSWORD: 'pw-proxy-test', UPSTREAM_PROXY: socks.url, PROXY_TEST_URL: `${targetUrl}/generate_204` });
    const login = await fetchJson(`${server.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: 'pw-proxy-test' }) });
    const check = (body: object) => fetchJson(`${server.url}/api/proxy/test`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${login.json.token}` }, body: JSON.stringify(body) });

    const before = socksAuth.tunnels.length;
    const given = await check({ proxy: `socks5://vpn-user:vpn-pass-5e1@127.0.0.1:${socksAuth.port}` });
    expect(given.status).toBe(200);
    expect(given.json).toMatchObject({ ok: true, status: 200 });
    expect(given.json.proxy).not.toContain('vpn-pass-5e1');
    expect(socksAuth.tunnels.length).toBe(before + 1);

    const socksBefore = socks.tunnels.length;
    const fallback = await check({});
    expect(fallback.json).toMatchObject({ ok: true, proxy: socks.url.replace(/\/?$/, '') });
    expect(socks.tunnels.length).toBe(socksBefore + 1);

    const h = await check({ proxy: `socks5h://127.0.0.1:${socks.port}` });
    expect(h.json.ok).toBe(true);
    const refused = await check({ proxy: `socks5://vpn-user:wrong@127.0.0.1:${socksAuth.port}`, timeoutMs: 5000 });
    expect(refused.json.ok).toBe(false);
    expect(refused.json.error).toBeTruthy();
    expect((await check({ proxy: 'gopher://127.0.0.1:70' })).status).toBe(400);
  });
});
