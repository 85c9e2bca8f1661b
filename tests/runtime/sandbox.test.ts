/** Per-request sandboxes made from a template, and the Claude template's permissions. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSandbox, liveSandboxes, DEFAULT_TEMPLATE_DIR, type Sandbox } from '../../src/runtime/sandbox.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let template: string;
const made: Sandbox[] = [];

async function make(subdir?: string, dir = template): Promise<Sandbox> {
  const sb = await createSandbox(dir, subdir);
  made.push(sb);
  return sb;
}

beforeAll(() => {
  template = mkdtempSync(path.join(tmpdir(), 'cligate-template-'));
  mkdirSync(path.join(template, 'cli-a', '.config', 'nested'), { recursive: true });
  writeFileSync(path.join(template, 'cli-a', '.config', 'settings.json'), '{"deny":["Bash"]}');
  writeFileSync(path.join(template, 'cli-a', '.config', 'nested', 'deep.txt'), 'deep');
  writeFileSync(path.join(template, 'cli-a', 'README'), 'a');
  mkdirSync(path.join(template, 'cli-b'));
  writeFileSync(path.join(template, 'cli-b', 'only-b.txt'), 'b');
  writeFileSync(path.join(template, 'top.txt'), 'top');
});

afterAll(async () => {
  for (const sb of made) await sb.cleanup();
  rmSync(template, { recursive: true, force: true });
});

describe('createSandbox', () => {
  it('makes a fresh directory holding a copy of the template subdir (dotfiles and nesting included)', async () => {
    const sb = await make('cli-a');
    expect(statSync(sb.path).isDirectory()).toBe(true);
    expect(path.resolve(sb.path).startsWith(path.resolve(template))).toBe(false);
    expect(readdirSync(sb.path).sort()).toEqual(['.config', 'README']);
    expect(readFileSync(path.join(sb.path, '.config', 'settings.json'), 'utf8')).toBe('{"deny":["Bash"]}');
    expect(readFileSync(path.join(sb.path, '.config', 'nested', 'deep.txt'), 'utf8')).toBe('deep');
  });

  it('is a copy: writing in the sandbox leaves the template untouched', async () => {
    const sb = await make('cli-a');
    writeFileSync(path.join(sb.path, 'README'), 'changed');
    writeFileSync(path.join(sb.path, 'new.txt'), 'new');
    expect(readFileSync(path.join(template, 'cli-a', 'README'), 'utf8')).toBe('a');
    expect(existsSync(path.join(template, 'cli-a', 'new.txt'))).toBe(false);
  });

  it('gives every request its own directory', async () => {
    const a = await make('cli-a');
    const b = await make('cli-a');
    expect(a.path).not.toBe(b.path);
    writeFileSync(path.join(a.path, 'mine.txt'), 'x');
    expect(existsSync(path.join(b.path, 'mine.txt'))).toBe(false);
  });

  it('without a subdir copies the whole template', async () => {
    const sb = await make();
    expect(readdirSync(sb.path).sort()).toEqual(['cli-a', 'cli-b', 'top.txt']);
  });

  it('a subdir the template lacks gives an empty sandbox', async () => {
    const sb = await make('no-such-cli');
    expect(statSync(sb.path).isDirectory()).toBe(true);
    expect(readdirSync(sb.path)).toEqual([]);
  });

  it('liveSandboxes tracks the directory until cleanup removes it; a second cleanup is harmless', async () => {
    const sb = await createSandbox(template, 'cli-b');
    expect(liveSandboxes()).toContain(sb.path);
    expect(readFileSync(path.join(sb.path, 'only-b.txt'), 'utf8')).toBe('b');
    await sb.cleanup();
    expect(existsSync(sb.path)).toBe(false);
    expect(liveSandboxes()).not.toContain(sb.path);
    await expect(sb.cleanup()).resolves.toBeUndefined();
    expect(liveSandboxes()).not.toContain(sb.path);
    // the template is never what gets removed
    expect(existsSync(path.join(template, 'cli-b', 'only-b.txt'))).toBe(true);
  });

  it('cleanup removes files the CLI wrote into the sandbox too', async () => {
    const sb = await createSandbox(template, 'cli-a');
    mkdirSync(path.join(sb.path, '.tmp', 'x'), { recursive: true });
    writeFileSync(path.join(sb.path, '.tmp', 'x', 'report.json'), '{}');
    await sb.cleanup();
    expect(existsSync(sb.path)).toBe(false);
  });

  it('tracks several sandboxes independently', async () => {
    const a = await createSandbox(template, 'cli-a');
    const b = await createSandbox(template, 'cli-b');
    expect(liveSandboxes()).toEqual(expect.arrayContaining([a.path, b.path]));
    await a.cleanup();
    expect(liveSandboxes()).not.toContain(a.path);
    expect(liveSandboxes()).toContain(b.path);
    expect(existsSync(b.path)).toBe(true);
    await b.cleanup();
    expect(liveSandboxes()).not.toContain(b.path);
  });
});

describe('the repository sandbox template', () => {
  const settingsPath = path.join(repoRoot, 'sandbox', 'claude', '.claude', 'settings.json');
  const settings = JSON.parse(readFileSync(settingsPath, 'utf8')) as {
    permissions: { allow: string[]; deny: string[]; defaultMode?: string };
  };

  it('DEFAULT_TEMPLATE_DIR is the top-level sandbox/ folder', () => {
    expect(path.resolve(DEFAULT_TEMPLATE_DIR)).toBe(path.join(repoRoot, 'sandbox'));
  });

  it('claude settings deny the file and shell tools', () => {
    for (const tool of ['Bash', 'Write', 'Edit', 'MultiEdit', 'Read', 'Glob', 'Grep', 'NotebookEdit']) {
      expect(settings.permissions.deny).toContain(tool);
    }
  });

  it('claude settings allow only WebSearch and WebFetch', () => {
    expect([...settings.permissions.allow].sort()).toEqual(['WebFetch', 'WebSearch']);
    for (const tool of settings.permissions.allow) expect(settings.permissions.deny).not.toContain(tool);
  });

  it('a claude sandbox carries those settings', async () => {
    const sb = await make('claude', DEFAULT_TEMPLATE_DIR);
    const copied = JSON.parse(readFileSync(path.join(sb.path, '.claude', 'settings.json'), 'utf8'));
    expect(copied).toEqual(settings);
  });
});
