/**
 * Account files of the systems cligate replaces, read into cligate accounts:
 *
 * - business-gemini: Business Gemini Pool's business_gemini_session.json (zqq-nuli/business-gemini-pool:
 *   `{proxy, accounts: [{team_id, secure_c_ses, host_c_oses, csesidx, user_agent, available}], models}`)
 *   and gemini-business2api's accounts.json / ACCOUNTS_CONFIG / GET /admin/accounts-config
 *   (Dreamy-rain/gemini-business2api: `[{id, secure_c_ses, host_c_oses, csesidx, config_id, expires_at,
 *   disabled, mail_*}]`, bare or as `{accounts: [...]}`) -> gemini-enterprise accounts.
 * - antigravity: antigravity-claude-proxy's ~/.config/antigravity-proxy/accounts.json
 *   (`{accounts: [{email, source, enabled, refreshToken "token|projectId|managedProjectId", projectId}], settings}`)
 *   -> cloudcode accounts.
 * - cligate: cligate's own export (GET /api/config, `{cligate: "config", store}`) or a bare store: its accounts.
 *
 * Everything is validated before anything is planned: one bad entry is an error naming the entry and the
 * field, and nothing is imported. Planning merges into a copy of the store; the caller writes it once.
 */
import { z } from 'zod';
import { storeSchema } from './store.js';
import { maskSecret } from './mask.js';
import type { Account, StoreData } from './types.js';

export const IMPORT_FORMATS = ['business-gemini', 'antigravity', 'cligate'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/** one account read from the file, with where it came from */
export interface Incoming {
  account: Account;
  /** "accounts[2]" */
  entry: string;
  /** who it is, masked, for the summary */
  who: string;
}

export interface ParsedImport {
  format: ImportFormat;
  accounts: Incoming[];
  /** entries that are well-formed but that cligate cannot use, with why */
  skipped: { entry: string; who: string; reason: string }[];
  /** things the user should know (fields not carried over, settings to make) */
  notes: string[];
}

export interface ImportRow {
  action: 'added' | 'updated' | 'unchanged' | 'skipped';
  id: string;
  provider: string;
  who: string;
  entry: string;
  reason?: string;
}

/** an unusable file: every problem, each naming its entry and field */
export class ImportError extends Error {
  constructor(readonly problems: string[]) {
    super(`nothing was imported:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

/** "alice@example.com" -> "al…@example.com" */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return maskSecret(email);
  const local = email.slice(0, at);
  return `${local.slice(0, Math.min(2, Math.max(1, local.length - 1)))}…${email.slice(at)}`;
}

/** an id that may carry an e-mail or a number of the account: its provider prefix kept, the rest cut short */
export function maskId(id: string): string {
  const m = /^(gemini-enterprise|cloudcode|kiro)-(.+)$/.exec(id);
  const [prefix, rest] = m ? [`${m[1]}-`, m[2]!] : ['', id];
  return rest.length <= 4 ? `${prefix}${'*'.repeat(rest.length)}` : `${prefix}${rest.slice(0, 2)}…${rest.slice(-2)}`;
}

const slug = (s: string) => s.replace(/[^a-zA-Z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase();
const required = { error: (i: { input?: unknown }) => (i.input === undefined || i.input === null ? 'required' : 'must be a string') };
const text = z.string(required).trim().min(1, 'must not be empty');
/** a value that the source wrote as a string or a number */
const textOrNumber = z.union([z.string(), z.number()], { error: (i) => (i.input === undefined || i.input === null ? 'required' : 'must be a string or a number') }).transform((v) => String(v).trim()).pipe(z.string().min(1, 'must not be empty'));
const optionalText = z.string().nullish().transform((v) => v?.trim() || undefined);

// ---------------------------------------------------------------------------------------------------------
// Business Gemini Pool / gemini-business2api

const businessAccount = z
  .looseObject({
    id: z.union([z.string(), z.number()]).nullish(),
    team_id: optionalText,
    config_id: optionalText,
    secure_c_ses: text,
    host_c_oses: optionalText,
    csesidx: textOrNumber,
    user_agent: optionalText,
    available: z.boolean().nullish(),
    unavailable_reason: optionalText,
    disabled: z.boolean().nullish(),
    expires_at: optionalText,
  })
  .superRefine((a, ctx) => {
    if (!a.team_id && !a.config_id) ctx.addIssue({ code: 'custom', path: ['team_id'], message: 'team_id (Business Gemini Pool) or config_id (gemini-business2api) is required: the config id in the business.gemini.google URL' });
  });

const businessFile = z.union([
  z.looseObject({ proxy: z.string().nullish(), accounts: z.array(z.unknown()) }),
  z.array(z.unknown()),
]);

function readBusiness(raw: unknown): ParsedImport {
  const file = businessFile.parse(raw);
  const list = Array.isArray(file) ? file : file.accounts;
  const proxy = Array.isArray(file) ? undefined : file.proxy?.trim() || undefined;
  const problems: string[] = [];
  const accounts: Incoming[] = [];
  let mail = false;
  list.forEach((item, i) => {
    const entry = `accounts[${i}]`;
    const parsed = businessAccount.safeParse(item);
    if (!parsed.success) {
      problems.push(...issues(entry, describeBusiness(item), parsed.error));
      return;
    }
    const a = parsed.data;
    if (Object.keys(item as object).some((k) => k.startsWith('mail_'))) mail = true;
    const teamId = (a.team_id ?? a.config_id)!;
    const label = `imported from ${a.config_id && !a.team_id ? 'gemini-business2api' : 'Business Gemini Pool'}${a.expires_at ? `; its cookies expire ${a.expires_at}` : ''}`;
    accounts.push({
      entry,
      who: `csesidx ${maskSecret(a.csesidx)}`,
      account: {
        id: `gemini-enterprise-${slug(a.id !== undefined && a.id !== null ? String(a.id) : a.csesidx) || i}`,
        provider: 'gemini-enterprise',
        label,
        enabled: a.disabled !== true,
        weight: 100,
        ...(proxy ? { proxy } : {}),
        credentials: { team_id: teamId, secure_c_ses: a.secure_c_ses, csesidx: a.csesidx, ...(a.host_c_oses ? { host_c_oses: a.host_c_oses } : {}), ...(a.user_agent ? { user_agent: a.user_agent } : {}) },
        ...(a.available === false ? { disabledReason: `marked unavailable in the imported file${a.unavailable_reason ? `: ${a.unavailable_reason}` : ''} (test the account to bring it back)` } : {}),
      },
    });
  });
  if (problems.length) throw new ImportError(problems);
  const notes: string[] = [];
  if (proxy) notes.push('the file\'s "proxy" is set on each imported account (an account\'s own proxy)');
  if (mail) notes.push('mail_* fields (gemini-business2api\'s automatic re-login by e-mail) are not imported: cligate uses the cookies as they are; import a fresh file when they expire');
  return { format: 'business-gemini', accounts, skipped: [], notes };
}

const describeBusiness = (item: unknown) => {
  const c = (item as { csesidx?: unknown } | null)?.csesidx;
  return typeof c === 'string' || typeof c === 'number' ? `csesidx ${maskSecret(String(c))}` : '';
};

// ---------------------------------------------------------------------------------------------------------
// antigravity-claude-proxy

const antigravityAccount = z.looseObject({
  email: text.refine((e) => e.includes('@'), 'an e-mail address'),
  source: z.string().nullish(),
  enabled: z.boolean().nullish(),
  refreshToken: z.string().nullish(),
  projectId: z.string().nullish(),
  subscription: z.looseObject({ projectId: z.string().nullish() }).nullish(),
});
const antigravityFile = z.looseObject({ accounts: z.array(z.unknown()) });

function readAntigravity(raw: unknown): ParsedImport {
  const file = antigravityFile.parse(raw);
  const problems: string[] = [];
  const accounts: Incoming[] = [];
  const skipped: ParsedImport['skipped'] = [];
  file.accounts.forEach((item, i) => {
    const entry = `accounts[${i}]`;
    const parsed = antigravityAccount.safeParse(item);
    const email = (item as { email?: unknown } | null)?.email;
    const who = typeof email === 'string' && email ? maskEmail(email) : '';
    if (!parsed.success) {
      problems.push(...issues(entry, who, parsed.error));
      return;
    }
    const a = parsed.data;
    const source = a.source ?? (a.refreshToken ? 'oauth' : 'unknown');
    if (source !== 'oauth' || !a.refreshToken?.trim()) {
      // manual (API key) and database accounts hold no refresh token: nothing cligate can refresh
      if (source === 'oauth') problems.push(`${entry} (${who}): refreshToken: an OAuth account needs its refresh token`);
      else skipped.push({ entry, who, reason: `a "${source}" account has no refresh token (add it with npm run accounts:add)` });
      return;
    }
    // "token|projectId|managedProjectId": the managed project is the one requests go to
    const [refresh = '', , managed = ''] = a.refreshToken.trim().split('|');
    if (!refresh) {
      problems.push(`${entry} (${who}): refreshToken: the refresh token part (before the first "|") is empty`);
      return;
    }
    const projectId = managed || a.projectId?.trim() || a.subscription?.projectId?.trim() || '';
    accounts.push({
      entry,
      who,
      account: {
        id: `cloudcode-${slug(a.email)}`,
        provider: 'cloudcode',
        label: 'imported from antigravity-claude-proxy',
        enabled: a.enabled !== false,
        weight: 100,
        credentials: { refresh_token: refresh, email: a.email, ...(projectId ? { project_id: projectId } : {}) },
      },
    });
  });
  if (problems.length) throw new ImportError(problems);
  return {
    format: 'antigravity',
    accounts,
    skipped,
    notes: ['these refresh tokens belong to the OAuth client antigravity-claude-proxy signs in with: set CLOUDCODE_OAUTH_CLIENT_ID and CLOUDCODE_OAUTH_CLIENT_SECRET to that client, or cligate cannot refresh them'],
  };
}

// ---------------------------------------------------------------------------------------------------------
// cligate's own export

function readCligate(raw: unknown): ParsedImport {
  const body = raw as { store?: unknown } | null;
  const input = body && typeof body === 'object' && 'store' in body ? body.store : raw;
  const parsed = storeSchema.safeParse(input);
  if (!parsed.success) throw new ImportError(issues('store', '', parsed.error));
  const accounts = (parsed.data.accounts as Account[]).map((account, i) => ({ account, entry: `accounts[${i}]`, who: account.credentials.email ? maskEmail(account.credentials.email) : maskId(account.id) }));
  return { format: 'cligate', accounts, skipped: [], notes: ['only the accounts are imported (not the proxy, provider settings or aliases: PUT /api/config replaces everything)'] };
}

// ---------------------------------------------------------------------------------------------------------

function issues(entry: string, who: string, err: z.ZodError): string[] {
  return err.issues.map((i) => `${entry}${who ? ` (${who})` : ''}: ${i.path.join('.') || '(entry)'}: ${i.message}`);
}

const hasAccounts = (v: unknown): v is { accounts: unknown[] } => !!v && typeof v === 'object' && Array.isArray((v as { accounts?: unknown }).accounts);
const anyItem = (list: unknown[], key: string) => list.some((x) => !!x && typeof x === 'object' && key in x);

/** which file this is, from its shape; undefined when it is none of them */
export function detectFormat(raw: unknown): ImportFormat | undefined {
  if (raw && typeof raw === 'object' && (raw as { cligate?: unknown }).cligate === 'config') return 'cligate';
  const list = Array.isArray(raw) ? raw : hasAccounts(raw) ? raw.accounts : undefined;
  if (!list) return undefined;
  if (anyItem(list, 'secure_c_ses') || anyItem(list, 'csesidx')) return 'business-gemini';
  if (!Array.isArray(raw) && (anyItem(list, 'refreshToken') || (anyItem(list, 'email') && anyItem(list, 'source')))) return 'antigravity';
  if (!Array.isArray(raw) && anyItem(list, 'provider') && anyItem(list, 'credentials')) return 'cligate';
  return undefined;
}

/** the file read and validated in full; throws ImportError (nothing usable) naming each bad entry and field */
export function parseImport(raw: unknown, format: ImportFormat | undefined = detectFormat(raw)): ParsedImport {
  if (!format) throw new ImportError([`the file is not one cligate knows: expected ${IMPORT_FORMATS.join(', ')} (give --format to say which)`]);
  let out: ParsedImport;
  try {
    out = format === 'business-gemini' ? readBusiness(raw) : format === 'antigravity' ? readAntigravity(raw) : readCligate(raw);
  } catch (err) {
    if (err instanceof z.ZodError) throw new ImportError(issues('(file)', '', err).map((p) => `${p} (not a ${format} file?)`));
    throw err;
  }
  // the same account twice in one file is a mistake to fix there, not something to pick from
  const seen = new Map<string, string>();
  const problems: string[] = [];
  for (const a of out.accounts) {
    const key = identity(a.account);
    const first = seen.get(key);
    if (first) problems.push(`${a.entry} (${a.who}): the same account as ${first}`);
    else seen.set(key, a.entry);
  }
  if (problems.length) throw new ImportError(problems);
  return out;
}

/** what makes two accounts the same account, whatever their ids */
function identity(a: Account): string {
  const c = a.credentials;
  if (a.provider === 'gemini-enterprise' && c.csesidx && c.team_id) return `gemini-enterprise:${c.team_id}:${c.csesidx}`;
  if (a.provider === 'cloudcode' && c.email) return `cloudcode:${c.email.toLowerCase()}`;
  if (a.provider === 'cloudcode' && c.refresh_token) return `cloudcode:rt:${c.refresh_token}`;
  return `id:${a.id}`;
}

function sameAccount(a: Account, b: Account): boolean {
  if (a.provider !== b.provider) return a.id === b.id;
  if (identity(a) === identity(b) || a.id === b.id) return true;
  return a.provider === 'cloudcode' && !!a.credentials.refresh_token && a.credentials.refresh_token === b.credentials.refresh_token;
}

/**
 * The store with the imported accounts merged in, and what happened to each. An account already in
 * the store (the same account, by its identity: team and csesidx, e-mail, refresh token, or id) is
 * updated: the file's credentials over the stored ones, its id, weight and label kept, a stored
 * rejection cleared when the credentials changed; with `skipExisting` it is left as it is.
 */
export function planImport(current: StoreData, parsed: ParsedImport, opts: { skipExisting?: boolean } = {}): { data: StoreData; rows: ImportRow[] } {
  const data = structuredClone(current);
  const rows: ImportRow[] = parsed.skipped.map((s) => ({ action: 'skipped', id: '', provider: parsed.format === 'antigravity' ? 'cloudcode' : '', who: s.who, entry: s.entry, reason: s.reason }));
  for (const { account, entry, who } of parsed.accounts) {
    const i = data.accounts.findIndex((a) => sameAccount(a, account));
    if (i < 0) {
      let id = account.id;
      for (let n = 2; data.accounts.some((a) => a.id === id); n++) id = `${account.id}-${n}`;
      data.accounts.push({ ...account, id });
      rows.push({ action: 'added', id, provider: account.provider, who, entry });
      continue;
    }
    const existing = data.accounts[i]!;
    if (opts.skipExisting) {
      rows.push({ action: 'skipped', id: existing.id, provider: existing.provider, who, entry, reason: 'already in the store (--skip-existing)' });
      continue;
    }
    const credentials = { ...existing.credentials, ...account.credentials };
    const changed = JSON.stringify(credentials) !== JSON.stringify(existing.credentials);
    const next: Account = {
      ...existing,
      credentials,
      enabled: account.enabled,
      ...(account.proxy ? { proxy: account.proxy } : {}),
      ...(existing.label ? {} : account.label ? { label: account.label } : {}),
    };
    if (changed) delete next.disabledReason;
    if (account.disabledReason && !changed) next.disabledReason = account.disabledReason;
    const action = JSON.stringify(next) === JSON.stringify(existing) ? 'unchanged' : 'updated';
    data.accounts[i] = next;
    rows.push({ action, id: existing.id, provider: existing.provider, who, entry });
  }
  // the result must be a store cligate opens
  const check = storeSchema.safeParse(data);
  if (!check.success) throw new ImportError(check.error.issues.map((i) => `store: ${i.path.join('.')}: ${i.message}`));
  return { data: check.data as StoreData, rows };
}

const entryIndex = (entry: string) => Number(/\[(\d+)\]/.exec(entry)?.[1] ?? 0);

/** the summary lines: ids and e-mails masked, no secret */
export function summaryLines(parsed: ParsedImport, rows: readonly ImportRow[]): string[] {
  const counts = (['added', 'updated', 'unchanged', 'skipped'] as const).map((a) => `${rows.filter((r) => r.action === a).length} ${a}`).join(', ');
  return [
    `${parsed.format}: ${parsed.accounts.length + parsed.skipped.length} account(s) in the file: ${counts}`,
    ...[...rows].sort((a, b) => entryIndex(a.entry) - entryIndex(b.entry)).map((r) => `  ${r.action.padEnd(9)} ${r.entry.padEnd(12)} ${r.provider ? `${r.provider} ` : ''}${r.id ? maskId(r.id) : '-'}${r.who ? ` (${r.who})` : ''}${r.reason ? `: ${r.reason}` : ''}`),
    ...parsed.notes.map((n) => `note: ${n}`),
  ];
}
