/** Entry point: config, the first-start API key question (api-key-prompt.ts), start, and signal handling (server/signals.ts). */
import { config as loadDotenv } from 'dotenv';
import { loadConfig, type Config } from './config.js';
import { applyLegacyEnv, logLegacyNotices, type LegacyNotice } from './legacy-env.js';
import { portIsExplicit, readCommandLine, USAGE, type CommandLine } from './command-line.js';
import { createLogger } from './log.js';
import { askForApiKey } from './api-key-prompt.js';
import { ListenError, startServer } from './server/start.js';
import { killAllSync } from './runtime/process.js';
import { removeAllSandboxesSync } from './runtime/sandbox.js';
import { handleSignals } from './server/signals.js';
import { startupReport } from './doctor/startup.js';

loadDotenv({ quiet: true });

async function main(): Promise<void> {
  let cmd: CommandLine;
  try {
    cmd = readCommandLine(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (cmd.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  let config: Config;
  let notices: LegacyNotice[];
  let env: Record<string, string | undefined>;
  try {
    // names of the systems cligate replaces (legacy-env.ts), then the command line over the environment
    const legacy = applyLegacyEnv(process.env);
    notices = legacy.notices;
    env = { ...legacy.env, ...cmd.env };
    config = loadConfig(env);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  // asked once at a terminal, never under a watcher; the answer is kept in .env (api-key-prompt.ts)
  config = { ...config, API_KEY: await askForApiKey(config.API_KEY, env) };
  const log = createLogger(config.LOG_LEVEL, { format: config.LOG_FORMAT });
  logLegacyNotices(log, notices);
  if (!config.API_KEY) log.warn('API_KEY is not set: the API is open to anyone who can reach this port (set API_KEY in .env to require a key)');

  // last resort on any exit: no CLI process or sandbox outlives the server
  process.on('exit', () => {
    killAllSync();
    removeAllSandboxesSync();
  });

  // handled from before the start: a stop during start-up waits for it, then drains
  // a port nobody chose is only a preference: when it is taken, the next free one is used
  const starting = startServer(config, log, process.env, { portFallback: portIsExplicit(cmd, process.env) ? 0 : 10 });
  handleSignals({ drain: async () => (await starting).close(), log });
  const running = await starting;
  log.info({ url: running.url, host: config.HOST, port: running.port }, `cligate listening on ${config.HOST}:${running.port}`);
  // what can answer and what to do about the rest: the doctor's table on a terminal, one log line otherwise
  void startupReport({ config, env: process.env, listening: running.port, providers: running.providers, log });
}

main().catch((err: unknown) => {
  if (err instanceof ListenError) {
    process.stderr.write(`cligate cannot start: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`cligate failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
