/**
 * The Qwen Code provider: every request runs `qwen -p … -o stream-json` in its own
 * sandbox. Qwen prints Claude Code's stream-json format, so the shared translator reads it.
 */
import type { Provider, ProviderContext, ModelInfo } from '../../core/provider.js';
import { cachedProbe, type CredentialSources } from '../../runtime/cli-status.js';
import type { ChatRequest } from '../../core/request.js';
import type { StreamPart } from '../../core/stream.js';
import { BadRequest } from '../../core/errors.js';
import { renderTranscript } from '../../runtime/transcript.js';
import { runCliRequest, type CliRuntime } from '../../runtime/cli-request.js';
import { StreamJsonTranslator } from '../../runtime/stream-json.js';
import { qwenArgs, qwenEnv, sessionFiles } from './client.js';

const STATUS_TTL_MS = 24 * 60 * 60 * 1000;
const CREDENTIALS: CredentialSources = {
  env: ['OPENAI_API_KEY', 'DASHSCOPE_API_KEY'],
  homeFiles: ['.qwen/oauth_creds.json'],
  login: 'qwen (then /auth)',
};

export interface QwenProviderOptions {
  cliPath: string;
  /** the model for the bare name "qwen" */
  defaultModel: string;
  models: readonly string[];
  runtime: CliRuntime;
  env?: NodeJS.ProcessEnv;
}

export function createQwenProvider(opts: QwenProviderOptions): Provider {
  const sourceEnv = opts.env ?? process.env;
  const listed = [...new Set([opts.defaultModel, ...opts.models])];
  const status = cachedProbe({ id: 'qwen-cli', cliPath: opts.cliPath, env: qwenEnv(sourceEnv), credentials: CREDENTIALS }, STATUS_TTL_MS);
  return {
    id: 'qwen-cli',
    progressVariants: true,

    models(): ModelInfo[] {
      return listed.map((id) => ({ id, provider: 'qwen-cli' }));
    },

    handles(model: string): boolean {
      return model === 'qwen' || model.startsWith('qwen') || listed.includes(model);
    },

    stream(req: ChatRequest, ctx: ProviderContext): AsyncIterable<StreamPart> {
      if (req.messages.some((m) => m.content.some((p) => p.type === 'image'))) {
        throw new BadRequest('Image input is not supported by the qwen-cli provider yet; send text only.', {
          param: 'messages',
          code: 'unsupported_content',
        });
      }
      const env = qwenEnv(sourceEnv);
      return runCliRequest(
        opts.runtime,
        {
          cli: 'qwen',
          pathVariable: 'QWEN_CLI_PATH',
          command: opts.cliPath,
          args: qwenArgs(req.model === 'qwen' ? opts.defaultModel : req.model, req.system),
          env,
          stdin: renderTranscript(req),
          template: 'qwen',
          translator: new StreamJsonTranslator('qwen', true),
          sessionFiles: (cwd) => sessionFiles(env.HOME, cwd),
        },
        ctx,
      );
    },

    status,
  };
}
