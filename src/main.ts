/** Entry point: config, first-run API key prompt, start, and signal handling (server/signals.ts). */
import { config as loadDotenv } from 'dotenv';
import { createInterface } from 'node:readline/promises';
import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from './config.js';
import { applyLegacyEnv, logLegacyNotices, type LegacyNotice } from './legacy-env.js';
import { portIsExplicit, readCommandLine, USAGE, type CommandLine } from './command-line.js';
import { createLogger } from './log.js';
import { ListenError, startServer } from './server/start.js';
import { killAllSync } from './runtime/process.js';
import { removeAllSandboxesSync } from './runtime/sandbox.js';
import { handleSignals } from './server/signals.js';
import { startupReport } from './doctor/startup.js';

loadDotenv({ quiet: true });

async function askForApiKey(config: Config): Promise<Config> {
  if (config.API_KEY || !process.stdin.isTTY) return config;
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  // the terminal is in raw mode while it asks: Ctrl-C arrives as a key, not as a signal
  rl.on('SIGINT', () => {
    rl.close();
    process.stdout.write('\n');
    process.exit(130);
  });
  const answer = await rl.question('Enable API key protection? (y/N) ');
  rl.close();
  if (!/^y(es)?$/i.test(answer.trim())) return config;
  const key = `sk-cligate-${randomBytes(24).toString('base64url')}`;
  process.stdout.write(`\nAPI key for this run (put API_KEY=${key} in .env to keep it):\n\n  ${key}\n\n`);
  return { ...config, API_KEY: key };
}

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
  try {
    // names of the systems cligate replaces (legacy-env.ts), then the command line over the environment
    const legacy = applyLegacyEnv(process.env);
    notices = legacy.notices;
    config = loadConfig({ ...legacy.env, ...cmd.env });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  config = await askForApiKey(config);
  const log = createLogger(config.LOG_LEVEL);
  logLegacyNotices(log, notices);
  if (!config.API_KEY) log.warn('API_KEY is not set: the API is open to anyone who can reach this port.');

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
  void startupReport({ config, env: process.env, listening: running.port, log });
}

main().catch((err: unknown) => {
  if (err instanceof ListenError) {
    process.stderr.write(`cligate cannot start: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`cligate failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
