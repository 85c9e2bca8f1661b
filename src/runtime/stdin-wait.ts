/**
 * Has a CLI started waiting for its prompt? Read from Linux's /proc, the way the CLI itself
 * shows it: some process of its tree waits to read the pipe (or socket) that is its stdin, either blocked
 * in read(2) on it (a native CLI: Codex) or with it registered in an epoll set (a node or Bun
 * CLI: Claude Code, the Gemini CLI, Qwen Code, whose event loops watch stdin once they read it).
 * A CLI that reads stdin only once its start-up is done is then ready to take its prompt.
 * No timer decides it: the warm pool hands out a process only once this has been seen.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** read(2), pread64, readv, preadv, preadv2 on the architectures we run on */
const READ_SYSCALLS: Partial<Record<NodeJS.Architecture, readonly number[]>> = {
  x64: [0, 17, 19, 295, 327],
  arm64: [63, 67, 65, 69, 286],
};

/** /proc shows what we need: fd links, epoll sets (fdinfo), the syscall a thread is blocked in */
export function canWatchStdin(): boolean {
  return process.platform === 'linux' && READ_SYSCALLS[process.arch] !== undefined && existsSync('/proc/self/fdinfo') && existsSync('/proc/self/syscall');
}

/** the stdin of a process, as /proc names it ("pipe:[123456]", "socket:[123456]"); undefined once it is gone */
export function stdinOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/fd/0`);
  } catch {
    return undefined;
  }
}

/** what is read once per process of the tree: which of its fds are the pipe, which are epoll sets */
interface Fds {
  pipe: Set<number>;
  epoll: number[];
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** the process and its descendants (each thread's children file) */
function treeOf(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    for (const t of list(`/proc/${out[i]}/task`)) {
      for (const c of read(`/proc/${out[i]}/task/${t}/children`).split(' ')) if (c.trim()) out.push(Number(c));
    }
  }
  return out;
}

function fdsOf(pid: number, pipe: string): Fds {
  const fds: Fds = { pipe: new Set(), epoll: [] };
  for (const name of list(`/proc/${pid}/fd`)) {
    let link: string;
    try {
      link = readlinkSync(`/proc/${pid}/fd/${name}`);
    } catch {
      continue;
    }
    if (link === pipe) fds.pipe.add(Number(name));
    else if (link === 'anon_inode:[eventpoll]') fds.epoll.push(Number(name));
  }
  return fds;
}

/**
 * Watches one process tree for its wait on `pipe` (its stdin). Each check reads a few small
 * /proc files; the fd tables are read again only every few checks (a CLI opens its files as it
 * boots, the stdin pipe's fd number does not change).
 */
export class StdinWatch {
  private readonly reads: readonly number[];
  private fds = new Map<number, Fds>();
  private checks = 0;

  constructor(
    private readonly pid: number,
    private readonly pipe: string,
  ) {
    this.reads = READ_SYSCALLS[process.arch] ?? [];
  }

  /** some process of the tree waits to read the pipe now */
  waiting(): boolean {
    const rescan = this.checks++ % 8 === 0;
    const tree = treeOf(this.pid);
    for (const pid of tree) {
      let fds = this.fds.get(pid);
      if (!fds || rescan) this.fds.set(pid, (fds = fdsOf(pid, this.pipe)));
      if (fds.pipe.size === 0) continue;
      // a thread blocked reading the pipe: "<nr> 0x<fd> …" (a running thread shows "running")
      for (const t of list(`/proc/${pid}/task`)) {
        const [nr, fd] = read(`/proc/${pid}/task/${t}/syscall`).split(' ');
        if (nr !== undefined && fd !== undefined && this.reads.includes(Number(nr)) && fds.pipe.has(parseInt(fd, 16))) return true;
      }
      // an event loop watching the pipe: "tfd:        0 events:       19 …"
      for (const ep of fds.epoll) {
        for (const m of read(`/proc/${pid}/fdinfo/${ep}`).matchAll(/^tfd:\s*(\d+)/gm)) if (fds.pipe.has(Number(m[1]))) return true;
      }
    }
    // processes that ended take their entries with them
    if (this.fds.size > tree.length) for (const pid of this.fds.keys()) if (!tree.includes(pid)) this.fds.delete(pid);
    return false;
  }
}

/**
 * Resolves once the process tree waits on its stdin (checked every `everyMs`), with false if the
 * signal fires first (the process exited, the pool closed, or it took too long).
 */
export async function untilWaitingOnStdin(pid: number, signal: AbortSignal, everyMs = 10): Promise<boolean> {
  // node gives a child's stdin as one end of a socket pair, other launchers a pipe
  const pipe = stdinOf(pid);
  if (!pipe || !/^(pipe|socket):\[\d+\]$/.test(pipe)) return false;
  const watch = new StdinWatch(pid, pipe);
  while (!signal.aborted) {
    if (watch.waiting()) return true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, everyMs);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }
  return false;
}
