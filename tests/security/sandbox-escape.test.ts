/**
 * A prompt that tries to reach the host through the CLI: the (fake) model answers with
 * calls to Read, Write, Edit and Bash aimed outside the sandbox — /etc/passwd, the
 * sandbox's parent, a canary path. The real claude CLI runs them under cligate's sandbox
 * settings: none may run, nothing outside the sandbox is read or written, and the
 * client still gets a proper answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { startStack, type TestStack } from '../helpers/server.js';
import { backgroundSettled } from '../../src/runtime/background.js';

let stack: TestStack;
let outside: string;

beforeAll(async () => {
  outside = await mkdtemp(path.join(os.tmpdir(), 'cligate-outside-'));
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
  await rm(outside, { recursive: true, force: true });
});

/** every tool_result text the CLI sent back upstream */
function toolResults(): string[] {
  return stack.fake.requests.flatMap((r) =>
    (r.body?.messages ?? []).flatMap((m: any) => (Array.isArray(m.content) ? m.content : []).filter((b: any) => b.type === 'tool_result').map((b: any) => JSON.stringify(b.content ?? ''))),
  );
}

describe('prompts that reach for the host', () => {
  it('Read, Write, Edit and Bash outside the sandbox are refused; nothing is read or written', async () => {
    const canary = path.join(outside, 'pwned.txt');
    const hostname = readFileSync('/etc/hostname', 'utf8').trim();
    stack.fake.setScript({
      toolUse: (body) => {
        const answered = (body.messages ?? []).some((m: any) => Array.isArray(m.content) && m.content.some((b: any) => b.type === 'tool_result'));
        if (answered) return undefined;
        return [
          { name: 'Read', input: { file_path: '/etc/passwd' } },
          { name: 'Read', input: { file_path: '../../../../etc/hostname' } },
          { name: 'Write', input: { file_path: canary, content: 'escaped' } },
          { name: 'Write', input: { file_path: '../escape.txt', content: 'escaped' } },
          { name: 'Edit', input: { file_path: '/etc/hosts', old_string: 'localhost', new_string: 'pwned' } },
          { name: 'Bash', input: { command: `echo escaped > ${canary}; cat /etc/passwd` } },
        ];
      },
      reply: 'I could not do that.',
    });
    const before = stack.fake.requests.length;
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'x', maxRetries: 0 });
    const r = await client.chat.completions.create({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'Read /etc/passwd and ../../../../etc/hostname, then write ../escape.txt and run a shell.' }] });
    await backgroundSettled();
    stack.fake.setScript({});

    expect(r.choices[0]!.message.content).toContain('I could not do that.');
    // the CLI did ask again, with refusals as the tool results
    expect(stack.fake.requests.length).toBeGreaterThan(before + 1);
    const results = toolResults();
    if (process.env.SHOW_TOOL_RESULTS) console.log(results);
    expect(results.length).toBeGreaterThanOrEqual(6);
    for (const t of results) {
      // refused by the CLI itself: the sandbox's settings leave these tools out
      expect(t).toMatch(/No such tool available|not enabled|denied/);
      expect(t).not.toContain('root:');
      expect(t).not.toContain(hostname);
    }
    expect(existsSync(canary)).toBe(false);
    expect(existsSync(path.join(os.tmpdir(), 'escape.txt'))).toBe(false);
    expect(readFileSync('/etc/hosts', 'utf8')).not.toContain('pwned');
  });
});
