/**
 * One pino logger for the process. LOG_FORMAT picks what reaches stdout:
 *
 * - `json`: pino's JSON lines, for log collectors;
 * - `pretty`: one line per entry for a person at a terminal, coloured when the terminal takes
 *   colours (NO_COLOR / FORCE_COLOR are honoured); a request is
 *   `12:03:04 POST /v1/chat/completions 200 claude-opus-4-8 → kiro (acc-1) 1.2s 120→45 tok`;
 * - `auto` (the default): pretty when stdout is a terminal and NODE_ENV is not production, else JSON.
 *
 * Pretty output is formatted here, in the main thread, from the JSON line pino has just made:
 * no worker thread to start (a pino transport costs start-up time) and no dependency that a
 * production install (`npm i -g`, the Docker image) leaves out.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

export const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** where log lines go: stdout, or a test's stream */
export interface LogOutput {
  write(chunk: string): unknown;
  isTTY?: boolean;
  /** a terminal's answer to "does it take colours" (tty.WriteStream; reads NO_COLOR, FORCE_COLOR, TERM) */
  hasColors?: () => boolean;
}

export interface LoggerOptions {
  format?: LogFormat;
  /** default: process.stdout */
  out?: LogOutput;
  /** default: process.env (NODE_ENV, FORCE_COLOR) */
  env?: NodeJS.ProcessEnv;
}

const REDACT = { paths: ['req.headers.authorization', 'req.headers["x-api-key"]', '*.apiKey', '*.token'], censor: '[masked]' };

/** whether `format` comes out pretty on `out` */
export function isPretty(format: LogFormat, out: LogOutput = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  if (format !== 'auto') return format === 'pretty';
  return out.isTTY === true && env.NODE_ENV !== 'production';
}

export function createLogger(level: string, opts: LoggerOptions = {}): Logger {
  const out = opts.out ?? process.stdout;
  const env = opts.env ?? process.env;
  if (!isPretty(opts.format ?? 'auto', out, env)) {
    // pino's own synchronous stdout writer unless a stream was given
    return opts.out ? pino({ level, redact: REDACT }, opts.out as DestinationStream) : pino({ level, redact: REDACT });
  }
  return pino({ level, redact: REDACT }, prettyStream(out, colorsFor(out, env)));
}

function colorsFor(out: LogOutput, env: NodeJS.ProcessEnv): boolean {
  if (typeof out.hasColors === 'function') return out.hasColors();
  // not a terminal (LOG_FORMAT=pretty into a pipe): plain, unless asked for
  return env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false' && !env.NO_COLOR;
}

/** a pino destination writing each JSON line it gets as one human line */
export function prettyStream(out: LogOutput, colors: boolean): DestinationStream {
  return {
    write(line: string) {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.write(line);
        return;
      }
      out.write(`${formatEntry(entry, colors)}\n`);
    },
  };
}

type Paint = (s: string) => string;
const ansi = (open: number, close: number): Paint => (s) => `\u001b[${open}m${s}\u001b[${close}m`;
const PAINT = { dim: ansi(2, 22), bold: ansi(1, 22), red: ansi(31, 39), green: ansi(32, 39), yellow: ansi(33, 39), cyan: ansi(36, 39), magenta: ansi(35, 39) };
const PLAIN: typeof PAINT = { dim: String, bold: String, red: String, green: String, yellow: String, cyan: String, magenta: String };

const LEVELS: Record<number, [string, keyof typeof PAINT]> = {
  10: ['TRACE', 'dim'],
  20: ['DEBUG', 'dim'],
  40: ['WARN', 'yellow'],
  50: ['ERROR', 'red'],
  60: ['FATAL', 'red'],
};
/** pino's own fields and the ones a line shows in its own place */
const OWN = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'err']);

/** one entry as one line (an error's stack, when there is one, follows indented) */
export function formatEntry(entry: Record<string, unknown>, colors: boolean): string {
  const p = colors ? PAINT : PLAIN;
  const time = p.dim(clock(typeof entry.time === 'number' ? entry.time : Date.now()));
  const level = typeof entry.level === 'number' ? entry.level : 30;
  if (entry.msg === 'request' && typeof entry.method === 'string') return `${time} ${requestLine(entry, p)}`;

  const tag = LEVELS[level];
  const parts = [time];
  if (tag) parts.push(p[tag[1]](tag[0]));
  const err = entry.err as string | { message?: string; stack?: string } | undefined;
  const errText = typeof err === 'string' ? err : err?.message;
  const msg = typeof entry.msg === 'string' ? entry.msg : '';
  parts.push(errText ? `${msg}: ${errText}` : msg);
  const fields = Object.entries(entry)
    .filter(([k, v]) => !OWN.has(k) && v !== undefined && v !== '')
    .map(([k, v]) => p.dim(`${k}=${show(v)}`));
  let line = [...parts, ...fields].filter(Boolean).join(' ');
  const stack = typeof err === 'object' ? err?.stack : undefined;
  if (stack && level >= 50) line += `\n${p.dim(stack.split('\n').slice(1).join('\n'))}`;
  return line;
}

/** `POST /v1/chat/completions 200 claude-opus-4-8 → claude-cli:503 → kiro (acc-1) 1.2s 120→45 tok key=alice` */
function requestLine(e: Record<string, unknown>, p: typeof PAINT): string {
  const status = typeof e.status === 'number' ? e.status : 0;
  const statusPaint = status >= 500 ? p.red : status >= 400 ? p.yellow : status >= 300 ? p.cyan : p.green;
  const parts = [`${e.method} ${e.path}`, statusPaint(String(status))];
  if (typeof e.model === 'string') parts.push(p.bold(e.model));
  const chain: string[] = [];
  if (Array.isArray(e.fallbacks)) for (const f of e.fallbacks) chain.push(p.yellow(String(f)));
  if (typeof e.provider === 'string') chain.push(p.cyan(e.provider) + (typeof e.account === 'string' ? ` (${e.account})` : ''));
  if (chain.length) parts.push(`→ ${chain.join(' → ')}`);
  if (typeof e.durationMs === 'number') parts.push(p.dim(duration(e.durationMs)));
  if (typeof e.tokensIn === 'number' || typeof e.tokensOut === 'number') {
    const cached = typeof e.tokensCached === 'number' ? ` (${e.tokensCached} cached)` : '';
    parts.push(p.dim(`${e.tokensIn ?? '?'}→${e.tokensOut ?? '?'} tok${cached}`));
  }
  if (typeof e.error === 'string') parts.push(status >= 500 ? p.red(e.error) : p.yellow(e.error));
  if (e.clientClosed) parts.push(p.yellow('client left'));
  // a client key's name (the master key is the usual caller: not repeated on every line)
  if (typeof e.key === 'string' && e.key !== 'master') parts.push(p.dim(`key=${e.key}`));
  return parts.join(' ');
}

function clock(ms: number): string {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

function duration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** a field's value: bare when it reads unambiguously, else JSON */
function show(v: unknown): string {
  if (typeof v === 'string') return /^[\w.,:/@+-]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

export type { Logger };
