/** How `qwen` is invoked: arguments, environment, and what it leaves behind. */
import path from 'node:path';
import { childEnv } from '../../runtime/env.js';

/** variables a user may set for Qwen Code (OpenAI-compatible endpoint, DashScope, its own) */
const PASS_PREFIXES = ['OPENAI_', 'QWEN_', 'DASHSCOPE_', 'BAILIAN_'];

export function qwenArgs(model: string, system: string | undefined): string[] {
  // the prompt comes on stdin; the CLI appends the -p value to it, so keep that blank
  const args = ['-p', ' ', '-m', model, '-o', 'stream-json', '--include-partial-messages'];
  if (system) args.push('--system-prompt', system);
  return args;
}

/**
 * Written to stdin before the prompt: Qwen Code, a fork of the Gemini CLI, also stops waiting for
 * stdin when nothing has come 500 ms after it starts reading (and answers the blank -p). A warm
 * process gets this as it starts, so it waits for its prompt however long the request takes to come.
 */
export const QWEN_STDIN_HEAD = '\n';

export function qwenEnv(source: NodeJS.ProcessEnv): Record<string, string> {
  // the sandbox's .qwen/settings.json (chat-only tools, no memory extraction) applies in a trusted
  // folder; without QWEN_CODE_NO_RELAUNCH the CLI starts a second node process of itself (see geminiEnv)
  return childEnv(source, PASS_PREFIXES, { QWEN_CODE_TRUST_WORKSPACE: 'true', GEMINI_CLI_TRUST_WORKSPACE: 'true', QWEN_CODE_NO_RELAUNCH: 'true', NO_COLOR: '1' });
}

/** Qwen Code keeps a folder per working directory under ~/.qwen/projects, named like Claude Code's. */
export function sessionFiles(home: string | undefined, cwd: string): string[] {
  return home ? [path.join(home, '.qwen', 'projects', cwd.replace(/[^a-zA-Z0-9]/g, '-'))] : [];
}
