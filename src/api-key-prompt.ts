/**
 * The first start at a terminal with no API_KEY anywhere asks once: "Enable API key protection? (y/N)".
 * The answer goes into the `.env` file of the current directory (the one cligate reads): a generated
 * key, or `API_KEY=` (empty: no key), so no later start asks again.
 *
 * Never asked when nobody can answer or the answer would be asked again and again: stdin or stdout
 * not a terminal, a watcher (`npm run dev`: node --watch, tsx watch) that restarts the server on
 * each change, NODE_ENV=production, CI. There the server starts open and warns (src/main.ts).
 */
import { createInterface } from 'node:readline/promises';
import { randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface PromptIo {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream & { isTTY?: boolean };
  /** a parent process holds an IPC channel to this one (node --watch does) */
  supervised: boolean;
}

const defaultIo = (): PromptIo => ({ input: process.stdin, output: process.stdout, supervised: typeof process.send === 'function' });

/**
 * Why the question is not asked, or undefined when it is. `env` is what the configuration was read
 * from (the environment, `.env`, the names of other gateways and the command line): an API_KEY there,
 * even an empty one, is an answer given before.
 */
export function whyNotAsk(apiKey: string, env: Record<string, string | undefined>, io: PromptIo = defaultIo()): string | undefined {
  if (apiKey) return 'API_KEY is set';
  if (env.API_KEY !== undefined) return 'API_KEY is set empty';
  if (!io.input.isTTY || !io.output.isTTY) return 'not a terminal';
  if (io.supervised || env.WATCH_REPORT_DEPENDENCIES || env.npm_lifecycle_event === 'dev') return 'under a watcher';
  if (env.NODE_ENV === 'production') return 'NODE_ENV=production';
  if (env.CI && env.CI !== 'false' && env.CI !== '0') return 'CI';
  return undefined;
}

/** appends `API_KEY=<value>` to the .env file (created owner-only when missing); the error when it cannot */
export function rememberApiKey(envFile: string, value: string): Error | undefined {
  let before = '';
  try {
    before = readFileSync(envFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return err as Error;
  }
  const note = value
    ? '# generated at the first start: clients send "Authorization: Bearer <API_KEY>" (or x-api-key)'
    : '# answered at the first start: empty = no key required; put a key here to require one';
  const lead = before && !before.endsWith('\n') ? '\n' : '';
  try {
    appendFileSync(envFile, `${lead}${note}\nAPI_KEY=${value}\n`, { mode: 0o600 });
    return undefined;
  } catch (err) {
    return err as Error;
  }
}

/** asks (when whyNotAsk says so), remembers the answer in `envFile`, and returns the key to use ('' for none) */
export async function askForApiKey(
  apiKey: string,
  env: Record<string, string | undefined>,
  opts: { io?: PromptIo; envFile?: string } = {},
): Promise<string> {
  const io = opts.io ?? defaultIo();
  if (whyNotAsk(apiKey, env, io) !== undefined) return apiKey;
  const envFile = opts.envFile ?? path.resolve('.env');
  const out = (s: string) => void io.output.write(s);

  const rl = createInterface({ input: io.input, output: io.output });
  // the terminal is in raw mode while it asks: Ctrl-C arrives as a key, not as a signal
  rl.on('SIGINT', () => {
    rl.close();
    out('\n');
    process.exit(130);
  });
  // Ctrl-D (end of input) is no answer: start without a key, remember nothing
  const closed = new Promise<undefined>((resolve) => rl.once('close', () => resolve(undefined)));
  const asked = rl.question('Enable API key protection? (y/N) ').catch(() => undefined);
  const answer = await Promise.race([asked, closed]);
  rl.close();
  if (answer === undefined) {
    out('\n');
    return '';
  }

  const yes = /^y(es)?$/i.test(answer.trim());
  const key = yes ? `sk-cligate-${randomBytes(24).toString('base64url')}` : '';
  const failed = rememberApiKey(envFile, key);
  if (yes) {
    out(`\nClients must now send "Authorization: Bearer <key>" (or "x-api-key: <key>"). The key:\n\n  ${key}\n\n`);
    out(failed ? `Could not save it (${failed.message}): put API_KEY=${key} in ${envFile} to keep it.\n\n` : `Saved as API_KEY in ${envFile}; not asked again.\n\n`);
  } else {
    out(failed ? `No key. Could not save the answer (${failed.message}): put API_KEY= in ${envFile} to not be asked again.\n` : `No key. Saved as API_KEY= (empty) in ${envFile}; not asked again. Put a key there to require one.\n`);
  }
  return key;
}
