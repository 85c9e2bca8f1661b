/**
 * The soak's server, in a process of its own (run with tsx and --expose-gc, forked by
 * soak.test.ts): its resident memory is then the server's alone, not the test's clients,
 * fakes and runner besides. Configuration comes in SOAK_SERVER_CONFIG (JSON); the test asks over
 * IPC for what only this process can see:
 *   memory    -> after four full collections: RSS, the JavaScript heap in use, resident kB by mapping
 *                (with SOAK_HEAPSNAPSHOT=prefix, a heap snapshot each time: prefix-1, prefix-2, …)
 *   settled   -> once background work (sandbox removal, …) has finished
 *   sandboxes -> every sandbox seen live so far (sampled every 20 ms) and those live now
 *   close     -> the server closed; the process then exits
 */
import { readFile } from 'node:fs/promises';
import v8 from 'node:v8';
import { loadConfig } from '../../src/config.js';
import { startServer } from '../../src/server/start.js';
import { liveSandboxes } from '../../src/runtime/sandbox.js';
import { backgroundSettled } from '../../src/runtime/background.js';
import { runLogger } from '../helpers/server.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc || !process.send) throw new Error('server-process.ts is forked by the soak with --expose-gc');

/** resident kB by mapping: file-backed, anonymous, [heap] (glibc's main arena), … */
async function maps(): Promise<Record<string, number>> {
  const text = await readFile('/proc/self/smaps', 'utf8');
  const out: Record<string, number> = {};
  let name = '';
  for (const line of text.split('\n')) {
    const m = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m) {
      name = !m[1] ? 'anon' : m[1].includes('/') ? 'file' : m[1];
      continue;
    }
    const r = /^Rss:\s+(\d+) kB/.exec(line);
    if (r) out[name] = (out[name] ?? 0) + Number(r[1]);
  }
  return out;
}

const overrides = JSON.parse(process.env.SOAK_SERVER_CONFIG ?? '{}') as Record<string, string>;
const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', RATE_LIMIT_ENABLED: 'false', LOG_LEVEL: 'silent', CLEANUP_DELAY_MINUTES: '0', ...overrides });
const server = await startServer(config, runLogger(), process.env);

let snapshots = 0;
const seen = new Set<string>();
const sampler = setInterval(() => liveSandboxes().forEach((s) => seen.add(s)), 20);

type Ask = { type: 'memory' | 'settled' | 'sandboxes' | 'close' };
process.on('message', (msg: Ask) => {
  void (async () => {
    switch (msg.type) {
      case 'memory': {
        for (let i = 0; i < 4; i++) gc();
        const { rss, heapUsed } = process.memoryUsage();
        if (process.env.SOAK_HEAPSNAPSHOT) v8.writeHeapSnapshot(`${process.env.SOAK_HEAPSNAPSHOT}-${++snapshots}.heapsnapshot`);
        return process.send!({ type: 'memory', rss, heapUsed, maps: await maps() });
      }
      case 'settled':
        await backgroundSettled();
        return process.send!({ type: 'settled' });
      case 'sandboxes':
        return process.send!({ type: 'sandboxes', seen: [...seen], live: [...liveSandboxes()] });
      case 'close':
        clearInterval(sampler);
        await server.close(0);
        process.send!({ type: 'close' }, () => process.exit(0));
    }
  })();
});
process.send({ type: 'up', url: server.url });
