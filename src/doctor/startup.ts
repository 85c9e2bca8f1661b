/**
 * The doctor's report once the server listens: the table on a terminal, one structured log line
 * with the same facts otherwise (not a TTY, or LOG_FORMAT=json), so a log collector sees them too.
 * It never delays or fails the start: it runs after listen, and a failure is a warning.
 */
import type { Config } from '../config.js';
import type { Provider } from '../core/provider.js';
import { isPretty, type LogOutput } from '../log.js';
import type { Logger } from '../log.js';
import { buildReport, type DoctorReport } from './report.js';
import { renderReport } from './render.js';

export interface StartupReportOptions {
  config: Config;
  env: NodeJS.ProcessEnv;
  /** the port actually listened on */
  listening: number;
  /** the running server's providers: the report probes them rather than building its own */
  providers?: readonly Provider[];
  log: Logger;
  out?: NodeJS.WriteStream;
}

/** the table goes to a terminal whose logs are readable lines (log.ts decides that), else the facts are one log line */
export function wantsTable(out: LogOutput, env: NodeJS.ProcessEnv, config: Config): boolean {
  return Boolean(out.isTTY) && isPretty(config.LOG_FORMAT, out, env);
}

/** the report's facts for one log line (no port key: tests and tools read the port from the "listening" line) */
export function logFields(r: DoctorReport): Record<string, unknown> {
  return {
    providers: r.providers.map((v) => ({
      id: v.id,
      ready: v.ready,
      detail: v.detail,
      ...(v.fix ? { fix: v.fix } : {}),
      ...(v.cli ? { cli: { path: v.cli.path ?? null, version: v.cli.version ?? null, loggedIn: v.cli.loggedIn ?? false } } : {}),
      ...(v.accounts ? { accounts: v.accounts } : {}),
      models: v.ready ? v.models : [],
    })),
    ready: r.ready,
    servable: r.servable,
    apiKeySet: r.server.apiKey,
    adminPasswordSet: r.server.adminPassword,
    state: { dataDir: r.state.dataDir, accounts: r.state.accounts.file, usage: r.state.usage, stateDir: r.state.stateDir },
    next: r.next,
  };
}

export async function startupReport(opts: StartupReportOptions): Promise<void> {
  const out = opts.out ?? process.stdout;
  try {
    const report = await buildReport({ config: opts.config, env: opts.env, port: opts.listening, ...(opts.providers ? { providers: opts.providers } : {}) });
    if (wantsTable(out, opts.env, opts.config)) out.write(`\n${renderReport(report, { color: !opts.env.NO_COLOR, mode: 'start' })}\n`);
    else {
      const msg = report.ready.length ? `ready to answer: ${report.ready.join(', ')}` : 'nothing can answer yet: run `cligate doctor` (npm run doctor) for what to do';
      if (report.ready.length) opts.log.info({ doctor: logFields(report) }, msg);
      else opts.log.warn({ doctor: logFields(report) }, msg);
    }
  } catch (err) {
    opts.log.warn({ err: (err as Error).message }, 'the start-up report failed (the server runs; `cligate doctor` shows the same facts)');
  }
}
