/**
 * `cligate doctor` / `npm run doctor`: what would answer if cligate started now, and what to do
 * about what would not. Reads the configuration the server reads (.env, the environment, the
 * legacy names), starts nothing.
 */
import { parseArgs } from 'node:util';
import { config as loadDotenv } from 'dotenv';
import { loadConfig } from '../config.js';
import { applyLegacyEnv } from '../legacy-env.js';
import { buildReport, exitCodeOf } from './report.js';
import { renderReport } from './render.js';

export const DOCTOR_USAGE = `Usage: cligate doctor [--json]      (in a clone: npm run doctor [-- --json])

Shows every provider cligate would serve with: installed or not, which executable and version,
logged in or not, usable accounts per pool, the models each would serve now, and the exact
command or setting that fixes what is missing; then the port, whether API_KEY and ADMIN_PASSWORD
are set, and where state and logs live. It reads .env and the environment as the server does and
starts nothing but each CLI's \`--version\`.

  --json       the same report as one JSON object
  --help, -h   this text

Exit code: 0 when at least one provider can answer a request now, 1 when nothing can,
2 when the configuration is invalid.`;

export async function runDoctor(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: [...argv], options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message.replace(/\. To specify a positional argument.*$/s, '')}\n\n${DOCTOR_USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${DOCTOR_USAGE}\n`);
    return 0;
  }
  loadDotenv({ quiet: true });
  let config;
  try {
    config = loadConfig(applyLegacyEnv(env).env);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\nFix these in .env or the environment (see .env.example), then run the doctor again.\n`);
    return 2;
  }
  const report = await buildReport({ config, env });
  if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(renderReport(report, { color: Boolean(process.stdout.isTTY) && !env.NO_COLOR }));
  return exitCodeOf(report);
}
