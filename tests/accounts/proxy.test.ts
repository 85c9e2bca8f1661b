/** Outbound requests of API providers go through the configured proxy: the account's, else the global one. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetchVia, closeDispatchers } from '../../src/accounts/http.js';
import { AccountStore } from '../../src/accounts/store.js';
import { AccountPool } from '../../src/accounts/pool.js';
import { startForwardProxy, type ForwardProxy } from '../fakes/forward-proxy.js';

let target: http.Server;
let targetUrl = '';
let proxy: ForwardProxy;
let proxyUrl = '';
let tunnels: string[] = [];
let plain: string[] = [];

beforeAll(async () => {
  target = http.createServer((_req, res) => res.end('from target'));
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
  proxy = await startForwardProxy();
  ({ url: proxyUrl, tunnels, plain } = proxy);
});
afterAll(async () => {
  await closeDispatchers();
  await proxy.close();
  target.closeAllConnections();
  await new Promise((r) => target.close(r));
});

describe('outbound proxy', () => {
  it('fetchVia goes through the proxy when one is given, and direct otherwise', async () => {
    const before = tunnels.length + plain.length;
    expect(await (await fetchVia(undefined, `${targetUrl}/direct`)).text()).toBe('from target');
    expect(tunnels.length + plain.length).toBe(before);
    expect(await (await fetchVia(proxyUrl, `${targetUrl}/proxied`)).text()).toBe('from target');
    expect(tunnels.length + plain.length).toBe(before + 1);
    expect([...tunnels, ...plain].at(-1)).toContain(new URL(targetUrl).host);
  });

  it("an account's own proxy overrides the global one", () => {
    const store = AccountStore.memory({
      proxy: 'http://global:1',
      accounts: [
        { id: 'a', provider: 'p', credentials: {} },
        { id: 'b', provider: 'p', proxy: 'http://own:2', credentials: {} },
      ] as never,
    });
    const pool = new AccountPool({ provider: 'p', store, health: { baseMs: 1, maxMs: 1 }, defaultStrategy: 'round-robin', defaultMaxAttempts: 0 });
    expect(pool.proxyFor(store.get('a')!)).toBe('http://global:1');
    expect(pool.proxyFor(store.get('b')!)).toBe('http://own:2');
    expect(new AccountPool({ provider: 'p', store: AccountStore.memory({ accounts: [{ id: 'c', provider: 'p' }] as never }), health: { baseMs: 1, maxMs: 1 }, defaultStrategy: 'round-robin', defaultMaxAttempts: 0 }).proxyFor({ id: 'c' } as never)).toBeUndefined();
  });
});
