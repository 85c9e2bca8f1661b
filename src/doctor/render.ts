/** The doctor's report as text for a terminal: colour only when asked (a TTY), plain otherwise. */
import { styleText } from 'node:util';
import type { ProviderView } from '../providers/status-view.js';
import type { DoctorReport } from './report.js';

type Style = 'green' | 'red' | 'yellow' | 'bold' | 'dim' | 'cyan';

export interface RenderOptions {
  /** ANSI colours (on a TTY) */
  color?: boolean;
  /** 'start': the table printed after listen (no header, no "run the doctor again") */
  mode?: 'doctor' | 'start';
}

function painter(color: boolean) {
  return (style: Style, s: string) => (color ? styleText(style, s) : s);
}

const KIND: Record<ProviderView['kind'], string> = { cli: 'CLI', accounts: 'accounts', upstream: 'upstream' };

function statusWord(v: ProviderView): string {
  if (v.ready) return 'ready';
  if (v.cli) return v.cli.installed ? 'not logged in' : 'not installed';
  if (v.accounts) return v.accounts.oauthClient === false ? 'no OAuth client' : v.accounts.total ? 'no usable account' : 'no accounts';
  return 'not configured';
}

/** the facts of one provider, in a line */
function facts(v: ProviderView): string {
  if (v.cli) {
    const parts = [v.cli.path ?? '?'];
    if (v.cli.installed) parts.push(v.cli.version ? `version ${v.cli.version}` : 'version unknown');
    if (v.cli.installed) parts.push(v.cli.loggedIn ? `logged in (${v.cli.auth ?? 'yes'})` : 'not logged in');
    else if (v.cli.reason) parts.push(v.cli.reason);
    return parts.join(' · ');
  }
  if (v.accounts) {
    const a = v.accounts;
    const parts = [`${a.usable} of ${a.total} accounts usable${a.enabled !== a.total ? ` (${a.enabled} enabled)` : ''}`];
    if (a.oauthClient !== undefined) parts.push(`OAuth client ${a.oauthClient ? 'configured' : 'not configured'}`);
    return parts.join(' · ');
  }
  const base = typeof v.upstream?.baseUrl === 'string' && v.upstream.baseUrl ? v.upstream.baseUrl : 'OPENAI_COMPATIBLE_BASE_URL not set';
  return base;
}

function list(models: readonly string[], max = 8): string {
  if (!models.length) return '(none listed)';
  return models.length > max ? `${models.slice(0, max).join(', ')}, … (${models.length} in all)` : models.join(', ');
}

export function renderReport(r: DoctorReport, opts: RenderOptions = {}): string {
  const paint = painter(opts.color ?? false);
  const mode = opts.mode ?? 'doctor';
  const lines: string[] = [];
  if (mode === 'doctor') lines.push(paint('bold', `cligate ${r.cligate.version} doctor`) + paint('dim', ` — Node ${r.cligate.node}, ${r.cligate.root}`), '');
  lines.push(paint('bold', 'Providers'));
  const width = Math.max(...r.providers.map((v) => v.id.length));
  for (const v of r.providers) {
    const mark = v.ready ? paint('green', '✓') : paint('red', '✗');
    const word = v.ready ? paint('green', statusWord(v)) : paint('yellow', statusWord(v));
    lines.push(`  ${mark} ${v.id.padEnd(width)}  ${paint('dim', KIND[v.kind].padEnd(8))}  ${word}`);
    lines.push(`      ${facts(v)}`);
    if (v.ready) lines.push(`      serves: ${list(v.models)}`);
    else {
      if (v.fix) lines.push(`      ${paint('cyan', 'fix:')} ${v.fix}`);
      if (v.models.length) lines.push(paint('dim', `      would serve: ${list(v.models)}`));
    }
  }
  lines.push('');
  lines.push(paint('bold', 'Server'));
  lines.push(`  listens on   ${r.server.host}:${r.server.port} (clients: ${r.server.url})`);
  const keys = r.server.clientKeys;
  if (keys?.total) lines.push(`  API keys     ${r.server.apiKey ? 'API_KEY (master) and ' : ''}${keys.total} client key${keys.total === 1 ? '' : 's'} (${keys.usable} usable): every API request needs one`);
  else lines.push(`  API key      ${r.server.apiKey ? 'set (API_KEY)' : paint('yellow', 'not set: the API is open to anyone who can reach it (set API_KEY)')}`);
  lines.push(`  admin        ${r.server.adminPassword ? `on: ${r.server.url}/admin/` : 'off (set ADMIN_PASSWORD to turn on /admin/ and /api)'}`);
  lines.push('');
  lines.push(paint('bold', 'State and logs'));
  const acc = r.state.accounts;
  lines.push(`  accounts     ${acc.file}${acc.error ? paint('red', ` — ${acc.error}`) : acc.exists ? '' : ' (not created yet: made on first start)'}`);
  lines.push(`  usage, history  ${r.state.usage}`);
  lines.push(`  images       ${r.state.images}`);
  lines.push(`  CLI sessions ${r.state.stateDir} (pending session clean-ups)`);
  lines.push(`  .env         ${r.state.envFile.file}${r.state.envFile.exists ? '' : ' (none: defaults and the environment apply)'}`);
  lines.push(`  logs         ${r.logs.to}; ${r.logs.format}; level ${r.logs.level}`);
  lines.push('');
  lines.push(paint('bold', r.ready.length ? 'Next' : 'What to do next'));
  for (const n of r.next) lines.push(`  → ${mode === 'start' ? n.replace(/, then run the doctor again$/, '') : n}`);
  return `${lines.join('\n')}\n`;
}
