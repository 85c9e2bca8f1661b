/**
 * The command line of `npm start -- …` / `node src/main.ts …`: --port and --host, which win over
 * PORT and HOST, and clis-wrapper's bare port number (`python main.py 9000`).
 */
import { parseArgs } from 'node:util';

export const USAGE = `Usage: npm start -- [--port N] [--host ADDRESS]

  --port N, -p N     listen on port N (wins over PORT; 0 = any free port)
  --host ADDRESS     listen on ADDRESS (wins over HOST)
  --help, -h         this text

Everything else is set in the environment or .env (see .env.example).
Without a port set (no --port, no PORT), a port in use is skipped: the next free one is used.`;

export interface CommandLine {
  /** variables the command line sets, over the environment's */
  env: { PORT?: string; HOST?: string };
  help: boolean;
}

/** Reads the arguments after the script; throws a message naming the bad argument. */
export function readCommandLine(argv: readonly string[]): CommandLine {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { port: { type: 'string', short: 'p' }, host: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new Error((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  const { values, positionals } = parsed;
  // clis-wrapper took the port as its one argument
  if (positionals.length > 1 || (positionals.length === 1 && values.port !== undefined)) {
    throw new Error(`Unexpected argument '${positionals.at(-1)}'`);
  }
  const port = values.port ?? positionals[0];
  if (port !== undefined && !(/^\d{1,5}$/.test(port) && Number(port) <= 65535)) {
    throw new Error(`--port: '${port}' is not a port number (0 to 65535)`);
  }
  if (values.host !== undefined && values.host.trim() === '') throw new Error('--host: an address is needed (e.g. 127.0.0.1)');
  return {
    env: { ...(port !== undefined ? { PORT: port } : {}), ...(values.host !== undefined ? { HOST: values.host.trim() } : {}) },
    help: values.help === true,
  };
}

/** the port was chosen (--port, or PORT in the environment or .env): a port in use is then an error, not skipped */
export function portIsExplicit(cmd: CommandLine, env: Record<string, string | undefined>): boolean {
  return cmd.env.PORT !== undefined || (env.PORT !== undefined && env.PORT !== '');
}
