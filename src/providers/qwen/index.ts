/**
 * The Qwen Code provider: `qwen -p … -o stream-json` per request, in its own sandbox.
 * Qwen prints Claude Code's stream-json format, so the shared translator reads it.
 */
import type { Provider } from '../../core/provider.js';
import type { CliRuntime } from '../../runtime/cli-request.js';
import { cliProvider } from '../../runtime/cli-provider.js';
import { StreamJsonTranslator } from '../../runtime/stream-json.js';
import { QWEN_STDIN_HEAD, qwenArgs, qwenEnv, sessionFiles } from './client.js';

export interface QwenProviderOptions {
  cliPath: string;
  /** the model for the bare name "qwen" */
  defaultModel: string;
  models: readonly string[];
  runtime: CliRuntime;
  env?: NodeJS.ProcessEnv;
}

export function createQwenProvider(opts: QwenProviderOptions): Provider {
  return cliProvider({
    id: 'qwen-cli',
    cli: 'qwen',
    pathVariable: 'QWEN_CLI_PATH',
    cliPath: opts.cliPath,
    models: [opts.defaultModel, ...opts.models],
    matches: (model) => model.startsWith('qwen'),
    credentials: { env: ['OPENAI_API_KEY', 'DASHSCOPE_API_KEY'], homeFiles: ['.qwen/oauth_creds.json'], login: 'qwen (then /auth)' },
    runtime: opts.runtime,
    env: qwenEnv,
    ...(opts.env ? { sourceEnv: opts.env } : {}),
    // the CLI reads an @path in the prompt and sends the image inline
    imageText: (att) => `[${att.label}] @${att.path} `,
    invocation: (req, env) => ({
      args: qwenArgs(req.model === 'qwen' ? opts.defaultModel : req.model, req.system),
      translator: new StreamJsonTranslator('qwen', true),
      // prompt on stdin, nothing per request in the arguments but the model and system prompt
      stdinHead: QWEN_STDIN_HEAD,
      warm: true,
      sessionFiles: (cwd) => sessionFiles(env.HOME, cwd),
    }),
  });
}
