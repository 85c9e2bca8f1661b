/**
 * The model defaults (CLAUDE_MODELS, GEMINI_MODEL(S), QWEN_MODEL(S), CODEX_MODEL(S)) are the current
 * models of the CLIs pinned in package.json, read from those packages or asked of the real CLI, and
 * none is on a retired list: a CLI bump that changes its default fails here, loudly.
 *  - Claude Code: the model the real `claude -p` asks the (fake) Anthropic API for without --model;
 *    retirements in its own table (bin/claude.exe, `"<model>":{modelName:…,retirementDates:…}`) and
 *    in @anthropic-ai/sdk's DEPRECATED_MODELS (resources/messages/messages.mjs), whose warning
 *    "The model '…' is deprecated and will reach end-of-life on …" the tests' SDK client prints.
 *  - Gemini CLI: DEFAULT_GEMINI_MODEL, DEFAULT_GEMINI_FLASH_MODEL, DEFAULT_GEMINI_FLASH_LITE_MODEL and
 *    VALID_GEMINI_MODELS of packages/core/src/config/models.ts in its bundle.
 *  - Qwen Code: DEFAULT_QWEN_MODEL (its Qwen OAuth default) and MAINLINE_CODER_MODEL (its API-key default) in cli.js.
 *  - Codex: the model the real `codex exec` asks the (fake) Responses API for without -m.
 */
import { describe, expect, it } from 'vitest';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { loadConfig } from '../../src/config.js';
import { startFakeAnthropic } from '../fakes/anthropic.js';
import { startFakeOpenAI } from '../fakes/openai.js';
import { claudeTestEnv, codexTestEnv, CLAUDE_BIN, CODEX_BIN, ROOT } from '../helpers/claude-env.js';

const defaults = loadConfig({});
const pkg = (...p: string[]) => path.join(ROOT, 'node_modules', ...p);

describe('Claude Code (pinned)', () => {
  it('CLAUDE_MODELS starts with the model the real claude CLI uses by default', async () => {
    const fake = await startFakeAnthropic();
    const claude = await claudeTestEnv(fake.url);
    try {
      const run = await execa(CLAUDE_BIN, ['-p', 'hi'], { env: claude.env, extendEnv: false, cwd: claude.home, input: '', reject: false, timeout: 60_000 });
      expect(run.exitCode, run.stderr).toBe(0);
      const asked = fake.requests.map((r) => (r.body as { model?: string } | undefined)?.model).filter(Boolean);
      expect(asked.length).toBeGreaterThan(0);
      expect(defaults.CLAUDE_MODELS[0]).toBe(asked.at(-1));
    } finally {
      await fake.close();
      await claude.cleanup();
    }
  }, 90_000);

  it('no CLAUDE_MODELS default is retired in Claude Code’s own table or deprecated in the Anthropic SDK', async () => {
    const bin = await readFile(pkg('@anthropic-ai/claude-code', 'bin', 'claude.exe'));
    // the table is there (a bump that moves it fails here instead of passing vacuously)
    expect(bin.indexOf('":{modelName:"Claude Opus 4",retirementDates:{firstParty:')).toBeGreaterThan(-1);
    for (const m of defaults.CLAUDE_MODELS) expect(bin.indexOf(`"${m}":{modelName:`), `${m} in Claude Code's retirement table`).toBe(-1);

    const sdk = await readFile(pkg('@anthropic-ai/sdk', 'resources', 'messages', 'messages.mjs'), 'utf8');
    const table = /const DEPRECATED_MODELS = \{([^}]*)\}/.exec(sdk)?.[1];
    expect(table, 'DEPRECATED_MODELS in @anthropic-ai/sdk').toBeDefined();
    const deprecated = [...table!.matchAll(/'([^']+)'\s*:/g)].map((m) => m[1]);
    expect(deprecated.length).toBeGreaterThan(0);
    for (const m of defaults.CLAUDE_MODELS) expect(deprecated, `${m} is deprecated in @anthropic-ai/sdk`).not.toContain(m);
  });
});

describe('Gemini CLI (pinned)', () => {
  it('GEMINI_MODEL is its DEFAULT_GEMINI_MODEL; GEMINI_MODELS its default pro, flash and flash-lite, all valid', async () => {
    const dir = pkg('@google/gemini-cli', 'bundle');
    let source: string | undefined;
    for (const f of (await readdir(dir)).filter((f) => f.endsWith('.js'))) {
      const text = await readFile(path.join(dir, f), 'utf8');
      const at = text.indexOf('// packages/core/src/config/models.ts');
      if (at !== -1) {
        source = text.slice(at, at + 6000);
        break;
      }
    }
    expect(source, 'packages/core/src/config/models.ts in the Gemini CLI bundle').toBeDefined();
    const vars = new Map<string, string>();
    // `var NAME = "value";` or `var NAME = OTHER_NAME;` (the flash defaults are aliases)
    for (const m of source!.matchAll(/^var (\w+) = (?:"([^"]*)"|(\w+));$/gm)) {
      const value = m[2] ?? vars.get(m[3]!);
      if (value !== undefined) vars.set(m[1]!, value);
    }
    expect(defaults.GEMINI_MODEL).toBe(vars.get('DEFAULT_GEMINI_MODEL'));
    expect(defaults.GEMINI_MODELS).toEqual([vars.get('DEFAULT_GEMINI_MODEL'), vars.get('DEFAULT_GEMINI_FLASH_MODEL'), vars.get('DEFAULT_GEMINI_FLASH_LITE_MODEL')]);
    const valid = /var VALID_GEMINI_MODELS = [^[]*\[([^\]]*)\]/.exec(source!)?.[1]?.split(',').map((s) => vars.get(s.trim())).filter(Boolean);
    expect(valid?.length).toBeGreaterThan(0);
    for (const m of defaults.GEMINI_MODELS) expect(valid, `${m} in VALID_GEMINI_MODELS`).toContain(m);
  });
});

describe('Qwen Code (pinned)', () => {
  it('QWEN_MODEL is its DEFAULT_QWEN_MODEL; QWEN_MODELS holds it and MAINLINE_CODER_MODEL', async () => {
    const cli = await readFile(pkg('@qwen-code', 'qwen-code', 'cli.js'), 'utf8');
    const value = (name: string) => new RegExp(`\\b${name} = "([^"]+)"`).exec(cli)?.[1];
    expect(defaults.QWEN_MODEL).toBe(value('DEFAULT_QWEN_MODEL'));
    expect(defaults.QWEN_MODELS).toEqual(expect.arrayContaining([value('DEFAULT_QWEN_MODEL'), value('MAINLINE_CODER_MODEL')]));
  });
});

describe('Codex (pinned)', () => {
  it('CODEX_MODEL and the first of CODEX_MODELS are the model the real codex uses by default', async () => {
    const fake = await startFakeOpenAI();
    const claude = await claudeTestEnv(fake.url); // a throwaway HOME
    try {
      const env = { ...claude.env, ...(await codexTestEnv(claude.home, fake.url)) };
      const run = await execa(CODEX_BIN, ['exec', '--json', '--skip-git-repo-check', '--ephemeral', '-s', 'read-only', '-'], { env, extendEnv: false, cwd: claude.home, input: 'hi', reject: false, timeout: 60_000 });
      expect(run.exitCode, run.stderr).toBe(0);
      const asked = fake.requests.map((r) => (r.body as { model?: string } | undefined)?.model).filter(Boolean);
      expect(asked.length).toBeGreaterThan(0);
      expect(defaults.CODEX_MODEL).toBe(asked[0]);
      expect(defaults.CODEX_MODELS[0]).toBe(asked[0]);
    } finally {
      await fake.close();
      await claude.cleanup();
    }
  }, 90_000);
});
