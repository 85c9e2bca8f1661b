/** A throwaway redis-server on a free 127.0.0.1 port, no persistence; killed on close. */
import { spawn, execFileSync } from 'node:child_process';
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
  client: Redis;
  close(): Promise<void>;
}

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
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
  return {
    url,
    client,
    async close() {
      client.disconnect();
      child.kill('SIGTERM');
      await exited;
    },
  };
}
