/** The Claude Code provider: `claude -p` per request, in its own sandbox. */
import type { Provider } from '../../core/provider.js';
import type { CliRuntime } from '../../runtime/cli-request.js';
import { cliProvider } from '../../runtime/cli-provider.js';
import { StreamJsonTranslator } from '../../runtime/stream-json.js';
import { claudeArgs, claudeEnv, claudeInput, sessionFiles } from './client.js';

export interface ClaudeProviderOptions {
  cliPath: string;
  models: readonly string[];
  allowedTools: readonly string[];
  runtime: CliRuntime;
  env?: NodeJS.ProcessEnv;
}

const ALIASES = ['opus', 'sonnet', 'haiku'];

export function createClaudeProvider(opts: ClaudeProviderOptions): Provider {
  return cliProvider({
    id: 'claude-cli',
    cli: 'claude',
    pathVariable: 'CLAUDE_CLI_PATH',
    cliPath: opts.cliPath,
    models: opts.models,
    matches: (model) => model.startsWith('claude-') || ALIASES.includes(model),
    credentials: {
      env: ['ANTHROPIC_API_KEY', 'CLAUDE_CODE_OAUTH_TOKEN', 'ANTHROPIC_AUTH_TOKEN', 'CLAUDE_CODE_USE_BEDROCK', 'CLAUDE_CODE_USE_VERTEX'],
      homeFiles: ['.claude/.credentials.json'],
      login: 'claude, then /login (or claude setup-token)',
    },
    runtime: opts.runtime,
    // with its WebSearch tool allowed, the CLI runs a client's hosted web search itself
    ...(opts.allowedTools.includes('WebSearch') ? { hostedTools: ['web_search'] } : {}),
    env: claudeEnv,
    ...(opts.env ? { sourceEnv: opts.env } : {}),
    invocation: (req, env, { prompt, images }) => {
      const args = claudeArgs({ model: req.model, system: req.system, allowedTools: opts.allowedTools });
      const input = claudeInput(prompt, images);
      return {
      args: [...args, ...input.args],
      stdin: input.stdin,
      // the arguments say everything but the prompt: a pre-started process can take the request
      warm: true,
      // with no tools there is no preamble to hold back
      translator: new StreamJsonTranslator('claude', opts.allowedTools.length > 0),
      sessionFiles: (cwd) => sessionFiles(env.HOME, cwd),
      };
    },
  });
}
