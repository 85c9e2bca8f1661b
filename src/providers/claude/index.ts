/**
 * The Claude Code provider: every request runs `claude -p` in its own sandbox and
 * streams the answer back as StreamParts.
 */
import type { Provider, ProviderContext, ModelInfo } from '../../core/provider.js';
import { cachedProbe, type CredentialSources } from '../../runtime/cli-status.js';
import type { ChatRequest } from '../../core/request.js';
import type { StreamPart } from '../../core/stream.js';
import { BadRequest } from '../../core/errors.js';
import { renderTranscript } from '../../runtime/transcript.js';
import { runCliRequest, type CliRuntime } from '../../runtime/cli-request.js';
import { claudeArgs, claudeEnv, sessionFiles } from './client.js';
import { StreamJsonTranslator } from '../../runtime/stream-json.js';

export interface ClaudeProviderOptions {
  cliPath: string;
  models: readonly string[];
  allowedTools: readonly string[];
  runtime: CliRuntime;
  env?: NodeJS.ProcessEnv;
}

const ALIASES = ['opus', 'sonnet', 'haiku'];
const STATUS_TTL_MS = 24 * 60 * 60 * 1000;
const CREDENTIALS: CredentialSources = {
  env: ['ANTHROPIC_API_KEY', 'CLAUDE_CODE_OAUTH_TOKEN', 'ANTHROPIC_AUTH_TOKEN', 'CLAUDE_CODE_USE_BEDROCK', 'CLAUDE_CODE_USE_VERTEX'],
  homeFiles: ['.claude/.credentials.json'],
  login: 'claude, then /login (or claude setup-token)',
};

export function createClaudeProvider(opts: ClaudeProviderOptions): Provider {
  const sourceEnv = opts.env ?? process.env;
  const status = cachedProbe({ id: 'claude-cli', cliPath: opts.cliPath, env: claudeEnv(sourceEnv), credentials: CREDENTIALS }, STATUS_TTL_MS);
  return {
    id: 'claude-cli',
    progressVariants: true,

    models(): ModelInfo[] {
      return opts.models.map((id) => ({ id, provider: 'claude-cli' }));
    },

    handles(model: string): boolean {
      return opts.models.includes(model) || model.startsWith('claude-') || ALIASES.includes(model);
    },

    stream(req: ChatRequest, ctx: ProviderContext): AsyncIterable<StreamPart> {
      if (req.messages.some((m) => m.content.some((p) => p.type === 'image'))) {
        throw new BadRequest('Image input is not supported by the claude provider yet; send text only.', {
          param: 'messages',
          code: 'unsupported_content',
        });
      }
      const env = claudeEnv(sourceEnv);
      return runCliRequest(
        opts.runtime,
        {
          cli: 'claude',
          pathVariable: 'CLAUDE_CLI_PATH',
          command: opts.cliPath,
          args: claudeArgs({ model: req.model, system: req.system, allowedTools: opts.allowedTools }),
          env,
          stdin: renderTranscript(req),
          template: 'claude',
          translator: new StreamJsonTranslator('claude', opts.allowedTools.length > 0),
          sessionFiles: (cwd) => sessionFiles(env.HOME, cwd),
        },
        ctx,
      );
    },

    status,
  };
}
