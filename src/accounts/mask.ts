/** Secrets as they may appear in logs and API answers: the first and last few characters. */
import type { Account } from './types.js';

export function maskSecret(value: string): string {
  if (!value) return '';
  if (value.length <= 8) return '*'.repeat(value.length);
  return `${value.slice(0, 3)}…${value.slice(-3)}`;
}

/** an account safe to show: every credential masked, the proxy's password too */
export function maskAccount(a: Account): Account {
  const credentials = Object.fromEntries(Object.entries(a.credentials).map(([k, v]) => [k, maskSecret(String(v))]));
  return { ...a, credentials, ...(a.proxy ? { proxy: maskProxy(a.proxy) } : {}) };
}

export function maskProxy(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '****';
    return u.toString();
  } catch {
    return url;
  }
}
