/** A throwaway DATA_DIR holding an account store (accounts.json), as the server reads it at start. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export async function dataDirWithStore(name: string, store: object): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `cligate-${name}-data-`));
  await writeFile(path.join(dir, 'accounts.json'), JSON.stringify(store));
  return dir;
}

/** Kiro social-login accounts, id -> refresh token */
export function kiroSocial(accounts: Record<string, string>): { id: string; provider: 'kiro'; credentials: { refresh_token: string; auth_method: 'social' } }[] {
  return Object.entries(accounts).map(([id, refresh_token]) => ({ id, provider: 'kiro', credentials: { refresh_token, auth_method: 'social' } }));
}
