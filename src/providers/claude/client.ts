/** How `claude` is invoked: arguments, environment, and what it leaves behind. */
import path from 'node:path';
import { childEnv } from '../../runtime/env.js';
import type { Attachment } from '../../runtime/attachments.js';

/** variables a user may set for Claude Code (endpoint, auth, behaviour) that must reach it */
const PASS_PREFIXES = ['ANTHROPIC_', 'CLAUDE_', 'DISABLE_', 'AWS_', 'CLOUD_ML_', 'VERTEX_', 'MCP_', 'MAX_THINKING_TOKENS', 'BASH_'];

export interface ClaudeArgsInput {
  model: string;
  system?: string;
  allowedTools: readonly string[];
}

export function claudeArgs(input: ClaudeArgsInput): string[] {
  const args = [
    '-p',
    '--output-format', 'stream-json',
    '--verbose',
    '--include-partial-messages',
    '--model', input.model,
    // only these tools are offered to the model at all; the sandbox settings deny the rest
    '--tools', input.allowedTools.join(','),
    // in -p mode the sandbox folder is untrusted, so its "allow" list is ignored: allow them here
    ...(input.allowedTools.length ? ['--allowedTools', input.allowedTools.join(',')] : []),
    '--permission-mode', 'dontAsk',
    // only the sandbox's project settings: the user's own hooks, MCP servers and skills
    // must not run for API requests (their login is in ~/.claude/.credentials.json, still read)
    '--setting-sources', 'project',
    '--strict-mcp-config',
    '--disable-slash-commands',
  ];
  if (input.system) args.push('--system-prompt', input.system);
  return args;
}

export function claudeEnv(source: NodeJS.ProcessEnv): Record<string, string> {
  return childEnv(source, PASS_PREFIXES, {
    // no auto-update, telemetry or other side traffic from a server process
    DISABLE_AUTOUPDATER: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    // a stream cut mid-way would be retried without streaming, repeating text already sent
    CLAUDE_CODE_DISABLE_NONSTREAMING_FALLBACK: '1',
    // no memory carried from one API request to another
    CLAUDE_CODE_DISABLE_AUTO_MEMORY: '1',
  });
}

/** Claude Code keeps a transcript per working directory under ~/.claude/projects. */
export function sessionDir(home: string, cwd: string): string {
  return path.join(home, '.claude', 'projects', cwd.replace(/[^a-zA-Z0-9]/g, '-'));
}

export function sessionFiles(home: string | undefined, cwd: string): string[] {
  return home ? [sessionDir(home, cwd)] : [];
}

/**
 * The prompt goes in as one stream-json user message (content blocks carry any images,
 * which Claude Code passes to the model as image blocks). Arguments then never depend on
 * the prompt, so a process can be started before its request arrives (the warm pool).
 */
export function claudeInput(prompt: string, images: Attachment[]): { args: string[]; stdin: string } {
  const content: unknown[] = [{ type: 'text', text: prompt }];
  for (const a of images) {
    content.push({ type: 'text', text: `[${a.label}]:` });
    content.push({ type: 'image', source: { type: 'base64', media_type: a.mediaType, data: a.data } });
  }
  const line = JSON.stringify({ type: 'user', message: { role: 'user', content } });
  return { args: ['--input-format', 'stream-json'], stdin: `${line}\n` };
}
