/**
 * One log for the whole test run: every in-process server logs at debug level into it and
 * every spawned server's output is appended. At the end it is scanned for the secrets the
 * tests use (API keys, refresh tokens, cookies, passwords); one found fails the run.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** the shapes of every secret the tests hand to cligate */
export const SECRET_PATTERNS = [
  /\brt-[a-z0-9][\w~-]*/i,
  /\bsk-[a-z0-9][\w-]*/i,
  // a client key's secret (its hint, "cg-AbCd…", is not one)
  /\bcg-[\w-]{20,}/,
  /\bCSE\.[\w.-]+/,
  /secret-cookie/,
  /\b(?:admin-pass|console-pass|admin-log-secret|internal-secret|pw-secret|aws-secret|test-secret|secret-key|multi-admin|durable-admin|cc-admin|ge-admin)[\w-]*/,
];

let dir = '';

export function setup(): void {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cligate-run-log-'));
  const file = path.join(dir, 'run.log');
  writeFileSync(file, '');
  process.env.CLIGATE_RUN_LOG = file;
}

export function teardown(): void {
  const file = process.env.CLIGATE_RUN_LOG!;
  const text = readFileSync(file, 'utf8');
  rmSync(dir, { recursive: true, force: true });
  const lines = text.split('\n');
  const found = lines.filter((l) => SECRET_PATTERNS.some((p) => p.test(l)));
  process.stdout.write(`\nrun log: ${lines.length - 1} lines scanned for secrets, ${found.length} with one\n`);
  if (found.length) throw new Error(`secrets in the logs of this run:\n${found.slice(0, 5).map((l) => l.slice(0, 400)).join('\n')}`);
}
