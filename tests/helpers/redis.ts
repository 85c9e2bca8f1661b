/**
 * A throwaway redis-server on a free 127.0.0.1 port, no persistence; killed on close. It can be
 * frozen (SIGSTOP) and thawed, and killed and started again empty on the same port: the outages
 * several instances must live through.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { freePort } from './net.js';
import { Redis } from 'ioredis';

export const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server';

export function hasRedisServer(): boolean {
  try {
    execFileSync(REDIS_SERVER, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface TestRedis {
  url: string;
  port: number;
  /** a client of the server running now (a new one after restart) */
  client: Redis;
  /** SIGSTOP: the server keeps its connections and answers nothing */
  pause(): void;
  /** SIGCONT */
  resume(): void;
  /** SIGKILL, as a crash; the port stays free until start() */
  kill(): Promise<void>;
  /** a new, empty server on the same port (after kill) */
  start(): Promise<void>;
  close(): Promise<void>;
}

async function launch(port: number): Promise<{ child: ChildProcess; exited: Promise<unknown>; client: Redis }> {
  const child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], { stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', r));
  const url = `redis://127.0.0.1:${port}`;
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  for (let i = 0; ; i++) {
    try {
      await client.connect();
      await client.ping();
      break;
    } catch (err) {
      if (i > 100) {
        child.kill('SIGKILL');
        throw new Error(`redis-server did not start on ${port}: ${(err as Error).message}`);
      }
      client.disconnect();
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { child, exited, client };
}

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  let running: Awaited<ReturnType<typeof launch>> | undefined = await launch(port);
  const stop = async (signal: NodeJS.Signals) => {
    if (!running) return;
    const { child, exited, client } = running;
    running = undefined;
    client.disconnect();
    child.kill('SIGCONT');
    child.kill(signal);
    await exited;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get client() {
      if (!running) throw new Error('redis-server is not running');
      return running.client;
    },
    pause: () => running?.child.kill('SIGSTOP'),
    resume: () => running?.child.kill('SIGCONT'),
    kill: () => stop('SIGKILL'),
    async start() {
      if (!running) running = await launch(port);
    },
    close: () => stop('SIGTERM'),
  };
}
