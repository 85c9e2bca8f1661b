/**
 * A command run on a pseudo-terminal, as a person at a terminal runs it. Node has no pty of its own
 * (node-pty compiles on install), so util-linux `script` makes one: the command's stdin, stdout and
 * stderr are the terminal; what is written to script's stdin is typed at that terminal ("\r" is
 * Return, "\x03" is Ctrl-C, which the terminal turns into SIGINT for its foreground process group),
 * and what the command writes comes back on script's stdout.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface Pty {
  /** script's own pid */
  pid: number;
  /** everything written to the terminal so far, ANSI codes and \r\n as they came */
  raw(): string;
  /** the same, without colour codes and \r */
  text(): string;
  type(keys: string): void;
  /** resolves once text() matches (searched from `from` on); rejects after `ms` */
  waitFor(re: RegExp, ms?: number, from?: number): Promise<RegExpExecArray>;
  /** resolves once nothing was written for `quietMs` */
  settle(quietMs?: number, ms?: number): Promise<void>;
  /** script's exit code (it returns the command's) */
  exited: Promise<number | null>;
}

/** whether `script` (util-linux) is here to make a pseudo-terminal */
export function hasScript(): boolean {
  return process.platform === 'linux' && spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
}

// CSI sequences (colours, cursor moves), OSC titles and the lone ESC c (clear screen) node --watch writes
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]|\u001b\][^\u0007]*\u0007|\u001bc/g;
export const plain = (s: string) => s.replace(ANSI, '').replace(/\r/g, '');

export function spawnPty(command: string, opts: { cwd: string; env: Record<string, string | undefined> }): Pty {
  // -q no banner, -f flush at once, -e the command's exit code, -c the command (run by $SHELL)
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: opts.cwd,
    env: { ...opts.env, SHELL: '/bin/sh' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of waiters) w();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const until = (check: () => boolean, ms: number, what: () => string) =>
    new Promise<void>((resolve, reject) => {
      const done = () => {
        if (!check()) return;
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(done);
        reject(new Error(`${what()}; the terminal shows:\n${plain(out).slice(-3000)}`));
      }, ms);
      waiters.add(done);
      done();
    });
  return {
    pid: child.pid!,
    raw: () => out,
    text: () => plain(out),
    type: (keys) => void child.stdin.write(keys),
    async waitFor(re, ms = 30_000, from = 0) {
      let m: RegExpExecArray | null = null;
      await until(() => (m = re.exec(plain(out).slice(from))) !== null, ms, () => `no ${re} within ${ms} ms`);
      return m!;
    },
    async settle(quietMs = 700, ms = 30_000) {
      let last = out.length;
      let since = Date.now();
      const started = Date.now();
      while (Date.now() - since < quietMs) {
        if (Date.now() - started > ms) throw new Error(`the terminal never went quiet within ${ms} ms`);
        await new Promise((r) => setTimeout(r, 50));
        if (out.length !== last) {
          last = out.length;
          since = Date.now();
        }
      }
    },
    exited,
  };
}

/** the live processes below `pid` (Linux /proc), deepest last */
export function descendants(pid: number): { pid: number; cmd: string }[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // the command name is in parentheses and may hold spaces: the fields after ")" are fixed
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch {
      // gone meanwhile
    }
  }
  const found: { pid: number; cmd: string }[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      found.push({ pid: c, cmd: cmdline(c) });
      walk(c);
    }
  };
  walk(pid);
  return found;
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** kills what is left of a run (after a failed test): its processes, deepest first, then script */
export function killTree(pty: Pty): void {
  for (const p of [...descendants(pty.pid)].reverse()) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  try {
    process.kill(pty.pid, 'SIGKILL');
  } catch {
    // gone
  }
}

/** whether a process is still alive (a zombie counts as gone) */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
