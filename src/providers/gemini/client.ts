/** How `gemini` is invoked: arguments, environment, the sandbox files, and what it leaves behind. */
import path from 'node:path';
import { childEnv } from '../../runtime/env.js';

/** variables a user may set for Gemini CLI (auth, endpoint, Vertex) that must reach it */
const PASS_PREFIXES = ['GEMINI_', 'GOOGLE_', 'CLOUDSDK_'];

export function geminiArgs(model: string): string[] {
  // the prompt comes on stdin; the CLI appends the -p value to it, so keep that blank
  return ['-p', ' ', '-m', model, '-o', 'stream-json'];
}

/**
 * Written to stdin before the prompt. The CLI reads stdin once its start-up is done and gives up
 * on it when nothing has come 500 ms later (readStdin's pipedInputShouldBeAvailableInMs), answering
 * the blank -p instead; with something there it waits for the end. A warm process gets this as it
 * starts and the prompt when its request comes; a cold one gets both at once, so both send the same.
 */
export const GEMINI_STDIN_HEAD = '\n';

export function geminiEnv(source: NodeJS.ProcessEnv): Record<string, string> {
  return childEnv(source, PASS_PREFIXES, {
    // the sandbox's .gemini/settings.json (chat-only tools, one attempt) only applies in a trusted folder
    GEMINI_CLI_TRUST_WORKSPACE: 'true',
    // the CLI otherwise starts a second node process of itself (for a larger heap and restarts
    // asked for in its UI, neither of which a one-prompt run uses): a whole boot more per request
    GEMINI_CLI_NO_RELAUNCH: 'true',
    NO_COLOR: '1',
  });
}

/**
 * The client's system prompt replaces Gemini CLI's own, through GEMINI_SYSTEM_MD: a file in the
 * sandbox, named relative to it (the CLI resolves it against its working directory), so the
 * environment is the same for every sandbox and a warm process can have it written before it starts.
 */
export function systemPrompt(system: string | undefined): { files: { path: string; data: string }[]; env: Record<string, string> } {
  if (!system) return { files: [], env: {} };
  const file = path.join('.gemini', 'system.md');
  return { files: [{ path: file, data: system }], env: { GEMINI_SYSTEM_MD: file } };
}

/**
 * Gemini CLI keeps per-folder state under ~/.gemini/tmp/<folder> and ~/.gemini/history/<folder>,
 * named after the working directory's base name, lower-cased, other characters runs as one '-'.
 */
export function sessionDirs(home: string, cwd: string): string[] {
  const name = path.basename(cwd).toLowerCase().replace(/[^a-z0-9]+/g, '-');
  return [path.join(home, '.gemini', 'tmp', name), path.join(home, '.gemini', 'history', name)];
}

export function sessionFiles(home: string | undefined, cwd: string): string[] {
  return home ? sessionDirs(home, cwd) : [];
}
