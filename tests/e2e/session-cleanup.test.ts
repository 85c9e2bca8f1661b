/** Real CLI runs leave session files under HOME; cligate removes exactly those, after the delay. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startStack, waitFor, type TestStack } from '../helpers/server.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ CLEANUP_DELAY_MINUTES: '0.01' }); // 600 ms
});
afterAll(async () => stack?.close());

const projects = () => path.join(stack.home, '.claude', 'projects');
const ours = () => (existsSync(projects()) ? readdirSync(projects()).filter((d) => d.includes('cligate')) : []);

describe('delayed session cleanup with the real claude CLI', () => {
  it('keeps the session for the delay, then removes it; a folder cligate did not make is never touched', async () => {
    const foreign = path.join(projects(), '-home-someone-project');
    mkdirSync(foreign, { recursive: true });
    writeFileSync(path.join(foreign, 'keep.jsonl'), '{}');
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    expect(ours()).toHaveLength(1); // the CLI wrote its session, and it is still there
    expect(await waitFor(() => ours().length === 0, 5000)).toBe(true);
    expect(existsSync(path.join(foreign, 'keep.jsonl'))).toBe(true);
  });
});
