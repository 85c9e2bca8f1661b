/** The admin API as a test calls it: one login per server (logins are rate-limited), then Bearer calls to /api/…. */
export type AdminCall = (method: string, p: string, body?: unknown) => Promise<{ status: number; body: any }>;

export function adminApi(baseUrl: () => string, password: string): AdminCall {
  let token: Promise<string> | undefined;
  const login = async () => {
    const r = await fetch(`${baseUrl()}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password }) });
    if (r.status !== 200) throw new Error(`admin login: ${r.status} ${await r.text()}`);
    return ((await r.json()) as { token: string }).token;
  };
  return async (method, p, body) => {
    token ??= login();
    const r = await fetch(`${baseUrl()}/api${p}`, { method, headers: { authorization: `Bearer ${await token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, body: body !== undefined ? JSON.stringify(body) : undefined });
    return { status: r.status, body: await r.json() };
  };
}
