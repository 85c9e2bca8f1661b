#!/usr/bin/env node
/**
 * The `cligate` command (package.json "bin": dist/bin.js, the compiled output):
 *
 *   cligate [start] [--port N] [--host ADDRESS]    the server (src/main.ts)
 *   cligate doctor [--json]                         what would answer, and what to do (src/doctor/)
 *   cligate accounts <add|list|verify|import> …     the account tools (src/cli/accounts.ts)
 *   cligate --version | --help
 *
 * Each command is the module `npm start` / `npm run …` runs in a clone, loaded with the
 * arguments it expects.
 */
import { fileURLToPath } from 'node:url';
import { packageVersion } from './package.js';

const HELP = `cligate ${packageVersion()}: OpenAI-, Anthropic-, Gemini- and Responses-compatible APIs in front of
the AI coding CLIs you are logged in to, and of account pools.

Usage:
  cligate [start] [--port N] [--host ADDRESS]   start the server (default port 8000; PORT, HOST)
  cligate doctor [--json]                        which providers can answer, what to run to fix the rest
                                                 (exit code 0: something can answer, 1: nothing can)
  cligate accounts add [--manual] [--port N]     sign in a Google account for Cloud Code
  cligate accounts list                          stored accounts, secrets masked
  cligate accounts verify                        refresh each Cloud Code account's token
  cligate accounts import <file> [--format F] [--skip-existing] [--dry-run]
                                                 accounts from another gateway's file
  cligate --version                              the version
  cligate --help                                 this text

Settings come from the environment and a .env file in the current directory (see .env.example).`;

/** runs a module that reads process.argv when loaded, as if it had been started with `args` */
async function runModule(relative: string, args: readonly string[]): Promise<void> {
  const file = fileURLToPath(new URL(relative, import.meta.url));
  process.argv = [process.argv[0]!, file, ...args];
  await import(relative);
}

async function main(argv: readonly string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-v' || command === 'version') {
    process.stdout.write(`${packageVersion()}\n`);
    return;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  // no command, or the server's own options: start (as `litellm` and `ccr start` do)
  if (command === undefined || command === 'start' || command.startsWith('-') || /^\d+$/.test(command)) {
    await runModule('./main.js', command === 'start' ? rest : argv);
    return;
  }
  if (command === 'doctor') {
    const { runDoctor } = await import('./doctor/main.js');
    process.exitCode = await runDoctor(rest);
    return;
  }
  if (command === 'accounts') {
    await runModule('./cli/accounts.js', rest);
    return;
  }
  process.stderr.write(`cligate: unknown command '${command}'\n\n${HELP}\n`);
  process.exitCode = 2;
}

await main(process.argv.slice(2));
