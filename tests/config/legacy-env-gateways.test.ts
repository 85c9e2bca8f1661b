/**
 * The names of Kiro gateway, antigravity-claude-proxy and gemini-business2api read as cligate's
 * (VPN_PROXY_URL has its own end-to-end test in tests/accounts/upstream-proxy.test.ts): the value
 * lands in cligate's variable, a set cligate name wins, and no notice shows a key or password.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { applyLegacyEnv, noticeMessage } from '../../src/legacy-env.js';

const read = (env: Record<string, string>) => {
  const { env: out, notices } = applyLegacyEnv(env);
  return { config: loadConfig(out), messages: notices.map(noticeMessage) };
};

describe('legacy names of the gateways cligate replaces', () => {
  it("Kiro gateway's .env: PROXY_API_KEY, SERVER_HOST, SERVER_PORT, VPN_PROXY_URL", () => {
    const { config, messages } = read({ PROXY_API_KEY: 'kiro-secret-key-123', SERVER_HOST: '127.0.0.1', SERVER_PORT: '9000', VPN_PROXY_URL: 'http://u:vpn-pass-1@10.0.0.1:7890' });
    expect(config).toMatchObject({ API_KEY: 'kiro-secret-key-123', HOST: '127.0.0.1', PORT: 9000, UPSTREAM_PROXY: 'http://u:vpn-pass-1@10.0.0.1:7890' });
    expect(messages).toHaveLength(4);
    for (const m of messages) expect(m).toMatch(/is Kiro gateway's name; read as /);
    expect(messages.join('\n')).not.toMatch(/kiro-secret-key-123|vpn-pass-1/);
  });

  it("antigravity-claude-proxy's WEBUI_PASSWORD and gemini-business2api's ADMIN_KEY are the admin password; API_KEY keeps its own name", () => {
    const agp = read({ WEBUI_PASSWORD: 'webui-pass-77', API_KEY: 'agp-key' });
    expect(agp.config).toMatchObject({ ADMIN_PASSWORD: 'webui-pass-77', API_KEY: 'agp-key' });
    expect(agp.messages.join('\n')).not.toContain('webui-pass-77');
    const gb = read({ ADMIN_KEY: 'admin-key-88' });
    expect(gb.config.ADMIN_PASSWORD).toBe('admin-key-88');
    expect(gb.messages.join('\n')).toMatch(/ADMIN_KEY is gemini-business2api's name/);
    expect(gb.messages.join('\n')).not.toContain('admin-key-88');
  });

  it("cligate's own name wins, and the notice says so without the value", () => {
    const { config, messages } = read({ PROXY_API_KEY: 'old-key-1234567', API_KEY: 'new-key-7654321', SERVER_PORT: '9000', PORT: '8100' });
    expect(config).toMatchObject({ API_KEY: 'new-key-7654321', PORT: 8100 });
    expect(messages.find((m) => m.startsWith('PROXY_API_KEY'))).toMatch(/ignored because API_KEY is set/);
    expect(messages.join('\n')).not.toMatch(/old-key-1234567|new-key-7654321/);
  });
});
