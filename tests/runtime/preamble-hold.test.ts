/**
 * The tool-preamble hold is bounded in time (PREAMBLE_HOLD_MS) as well as in length: a CLI
 * that writes its first answer token and then goes quiet (a slow model) has that token let
 * through once the hold runs out, not when the answer ends or passes 240 characters. Text
 * followed by a tool call within the hold is still dropped. Run through runCliRequest with a
 * scripted CLI (node printing claude's stream-json on a schedule), so the runner's timer is
 * what is tested. Assertions are on order (what came before which line), never on a duration.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { runCliRequest, type CliRuntime } from '../../src/runtime/cli-request.js';
import { WorkerPool } from '../../src/runtime/pool.js';
import { DEFAULT_TEMPLATE_DIR } from '../../src/runtime/sandbox.js';
import { StreamJsonTranslator } from '../../src/runtime/stream-json.js';
import { PreambleFilter } from '../../src/runtime/preamble.js';
import { backgroundSettled } from '../../src/runtime/background.js';
import type { StreamPart } from '../../src/core/stream.js';

const work = mkdtempSync(path.join(tmpdir(), 'cligate-hold-test-'));
afterAll(async () => {
  await backgroundSettled();
  rmSync(work, { recursive: true, force: true });
});

/** a CLI that prints these lines, each after its delay (ms); "MARK …" lines are not JSON: translators ignore them, the test counts them */
function scriptedCli(steps: [number, object | string][]): string {
  const file = path.join(work, `cli-${Math.random().toString(36).slice(2)}.mjs`);
  const body = `
const steps = ${JSON.stringify(steps)};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
for (const [delay, line] of steps) {
  await sleep(delay);
  process.stdout.write((typeof line === 'string' ? line : JSON.stringify(line)) + '\\n');
}`;
  writeFileSync(file, body);
  return file;
}

const ev = (event: object) => ({ type: 'stream_event', event, parent_tool_use_id: null, session_id: 's' });
const start = [ev({ type: 'message_start', message: {} }), ev({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } })];
const delta = (text: string, index = 0) => ev({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } });
const result = (text: string) => ({ type: 'result', subtype: 'success', is_error: false, result: text, usage: { input_tokens: 1, output_tokens: 1 } });

/** the parts of one run, each with the number of "marker" lines (non-JSON) the CLI had printed before it */
async function run(script: string, holdMs: number, holdBack = true) {
  const pool = new WorkerPool({ concurrency: 1, queueLimit: 1, queueTimeoutMs: 10_000 });
  const rt: CliRuntime = { pool, templateDir: DEFAULT_TEMPLATE_DIR, timeoutMs: 30_000, preambleHoldMs: holdMs };
  const translator = new StreamJsonTranslator('claude', holdBack);
  // markers are counted as the runner reads them: a wrapper sees every line first
  let markers = 0;
  const counting = {
    feed: (line: string) => {
      if (line.startsWith('MARK')) markers += 1;
      return translator.feed(line);
    },
    finish: translator.finish.bind(translator),
    answer: translator.answer,
  };
  const parts: { part: StreamPart; markers: number }[] = [];
  const inv = { cli: 'claude', pathVariable: 'CLAUDE_CLI_PATH', command: process.execPath, args: [script], env: { PATH: process.env.PATH ?? '' }, stdin: '', template: 'claude', translator: counting };
  const ctx = { signal: new AbortController().signal, requestId: 't', log: pino({ level: 'silent' }) };
  for await (const part of runCliRequest(rt, inv, ctx)) if (part.type !== 'keepalive') parts.push({ part, markers });
  return parts;
}

const texts = (parts: { part: StreamPart }[]) => parts.filter((p) => p.part.type === 'text-delta').map((p) => (p.part as { text: string }).text);

describe('preamble hold bounded in time', () => {
  it('a slow model: its first token is let through when the hold runs out, long before the next one', async () => {
    // first token, then 4 s of silence (a marker line half-way), then the rest
    const script = scriptedCli([[0, start[0]!], [0, start[1]!], [0, delta('The')], [2000, 'MARK quiet'], [2000, delta(' answer.')], [0, result('The answer.')]]);
    const parts = await run(script, 300);
    const first = parts.find((p) => p.part.type === 'text-delta')!;
    expect((first.part as { text: string }).text).toBe('The');
    // released by the runner's timer while the CLI was silent: before the marker it printed 2 s later
    expect(first.markers).toBe(0);
    expect(texts(parts).join('')).toBe('The answer.');
  });

  it('text followed by a tool call within the hold is still dropped as a preamble', async () => {
    const script = scriptedCli([
      [0, start[0]!],
      [0, start[1]!],
      [0, delta('Let me search for that.')],
      [100, ev({ type: 'content_block_stop', index: 0 })],
      [0, ev({ type: 'content_block_start', index: 1, content_block: { type: 'server_tool_use', id: 'srv_1', name: 'web_search' } })],
      [0, ev({ type: 'content_block_stop', index: 1 })],
      [0, ev({ type: 'content_block_start', index: 2, content_block: { type: 'text', text: '' } })],
      [0, delta('Paris.', 2)],
      [0, ev({ type: 'message_delta', delta: { stop_reason: 'end_turn' } })],
      [0, result('Let me search for that.Paris.')],
    ]);
    const parts = await run(script, 5000);
    expect(texts(parts).join('')).toBe('Paris.');
  });

  it('PREAMBLE_HOLD_MS=0 holds nothing; a CLI without tools is never held', async () => {
    const steps: [number, object | string][] = [[0, start[0]!], [0, start[1]!], [0, delta('Hi')], [1500, 'MARK later'], [0, result('Hi')]];
    for (const [holdMs, holdBack] of [[0, true], [60_000, false]] as const) {
      const parts = await run(scriptedCli(steps), holdMs, holdBack);
      const first = parts.find((p) => p.part.type === 'text-delta')!;
      expect(first.markers, `hold ${holdMs}, holdBack ${holdBack}`).toBe(0);
      expect(texts(parts)).toEqual(['Hi']);
    }
  });
});

describe('PreambleFilter', () => {
  it('says since when it holds text, and release() lets it out and streams what follows', () => {
    const f = new PreambleFilter(true);
    expect(f.heldSince).toBeUndefined();
    expect(f.text('Hel')).toEqual([{ type: 'keepalive' }]);
    const since = f.heldSince!;
    expect(since).toBeGreaterThan(0);
    f.text('lo');
    expect(f.heldSince).toBe(since); // from the first held token
    expect(f.release()).toEqual([{ type: 'text-delta', text: 'Hello' }]);
    expect(f.heldSince).toBeUndefined();
    expect(f.text(' world')).toEqual([{ type: 'text-delta', text: ' world' }]);
    // a tool call ends the live run: the next message's text is held again
    f.toolCall();
    f.text('Next');
    expect(f.heldSince).toBeDefined();
    f.toolCall();
    expect(f.heldSince).toBeUndefined();
    expect(f.release()).toEqual([]);
  });
});
