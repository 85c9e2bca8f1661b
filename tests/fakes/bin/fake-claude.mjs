#!/usr/bin/env node
// A stand-in for the claude CLI that misbehaves on request: it speaks claude's
// stream-json, and a marker in the prompt picks what goes wrong:
//   [[cli:ok]] (default) a normal answer      [[cli:crash]]   exits 1 mid-stream
//   [[cli:hang]]  never prints a thing        [[cli:stall]]   one token, then silence
//   [[cli:flood]] megabytes of deltas         [[cli:garbage]] binary junk, no result
//   [[cli:orphan]] leaves a sleeping grandchild, then crashes
import { spawn } from 'node:child_process';

if (process.argv.includes('--version')) {
  process.stdout.write('2.1.197 (Claude Code)\n');
  process.exit(0);
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', () => run(input));

const session = 'soak-session';
const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const event = (e) => out({ type: 'stream_event', event: e, session_id: session, parent_tool_use_id: null });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function start() {
  out({ type: 'system', subtype: 'init', cwd: process.cwd(), session_id: session, tools: [], model: 'claude-sonnet-4-5', claude_code_version: '2.1.197' });
  event({ type: 'message_start', message: { id: 'msg_soak', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [], stop_reason: null, usage: { input_tokens: 12, output_tokens: 1 } } });
  event({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
}

function finish(text) {
  event({ type: 'content_block_stop', index: 0 });
  event({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 3 } });
  event({ type: 'message_stop' });
  out({ type: 'result', subtype: 'success', is_error: false, api_error_status: null, result: text, stop_reason: 'end_turn', session_id: session, usage: { input_tokens: 12, output_tokens: 3, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 } });
}

async function run(prompt) {
  const mode = /\[\[cli:(\w+)\]\]/.exec(prompt)?.[1] ?? 'ok';
  // [[seq:N]] [[log:/path]]: note "N <start ms>" in that file, for benchmarks that check the order of starts
  // (in the prompt: cligate passes the CLI a clean environment)
  const tag = /\[\[seq:(\d+)\]\]/.exec(prompt)?.[1];
  const log = /\[\[log:([^\]]+)\]\]/.exec(prompt)?.[1];
  if (log && tag) (await import('node:fs')).appendFileSync(log, `${tag} ${Date.now()}\n`);
  const hold = Number(/\[\[hold:(\d+)\]\]/.exec(prompt)?.[1] ?? 0);
  if (mode === 'hang') return void setInterval(() => {}, 1 << 30);
  start();
  const delta = (text) => event({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } });
  if (mode === 'crash') {
    delta('partial ');
    await sleep(20);
    process.stderr.write('fake claude: crashing on purpose\n');
    process.exit(1);
  }
  if (mode === 'orphan') {
    spawn('sleep', ['1000'], { stdio: 'ignore' });
    delta('partial ');
    await sleep(20);
    process.exit(1);
  }
  if (mode === 'stall') {
    delta('one token then nothing ');
    return void setInterval(() => {}, 1 << 30);
  }
  if (mode === 'garbage') {
    process.stdout.write(Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x22, 0x0a, 0x1b, 0x5b, 0x33, 0x31, 0x6d, 0x0a]));
    process.stdout.write('{"type":"stream_event","event":{"type":"content_block_delta"\n');
    process.stdout.write('not json at all\n');
    process.exit(0);
  }
  if (mode === 'flood') {
    const chunk = 'flood '.repeat(200);
    for (let i = 0; i < 4000; i++) delta(chunk);
    finish('flooded');
    return;
  }
  delta('soak ');
  if (hold) await sleep(hold);
  delta('answer');
  finish('soak answer');
}
