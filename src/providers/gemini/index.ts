/**
 * The Gemini CLI provider: every request runs `gemini -p … -o stream-json` in its own
 * sandbox (whose .gemini/settings.json offers only web search and fetch, and makes
 * one attempt so errors surface at once instead of after minutes of retries).
 */
import type { Provider, ProviderContext, ModelInfo } from '../../core/provider.js';
import { cachedProbe, type CredentialSources } from '../../runtime/cli-status.js';
import type { ChatRequest } from '../../core/request.js';
import type { StreamPart } from '../../core/stream.js';
import { BadRequest } from '../../core/errors.js';
import { renderTranscript } from '../../runtime/transcript.js';
import { runCliRequest, type CliRuntime } from '../../runtime/cli-request.js';
import { geminiArgs, geminiEnv, sessionFiles, writeSystemPrompt } from './client.js';
import { GeminiStreamTranslator } from './translate.js';

const STATUS_TTL_MS = 24 * 60 * 60 * 1000;
const CREDENTIALS: CredentialSources = {
  env: ['GEMINI_API_KEY', 'GOOGLE_API_KEY', 'GOOGLE_GENAI_USE_VERTEXAI', 'GOOGLE_APPLICATION_CREDENTIALS'],
  homeFiles: ['.gemini/oauth_creds.json'],
  login: 'gemini (then choose "Login with Google")',
};

export interface GeminiProviderOptions {
  cliPath: string;
  /** the model for the bare name "gemini" */
  defaultModel: string;
  models: readonly string[];
  runtime: CliRuntime;
  env?: NodeJS.ProcessEnv;
}

export function createGeminiProvider(opts: GeminiProviderOptions): Provider {
  const sourceEnv = opts.env ?? process.env;
  const listed = [...new Set([opts.defaultModel, ...opts.models])];
  const status = cachedProbe({ id: 'gemini-cli', cliPath: opts.cliPath, env: geminiEnv(sourceEnv), credentials: CREDENTIALS }, STATUS_TTL_MS);
  return {
    id: 'gemini-cli',
    progressVariants: true,

    models(): ModelInfo[] {
      return listed.map((id) => ({ id, provider: 'gemini-cli' }));
    },

    handles(model: string): boolean {
      return model === 'gemini' || model.startsWith('gemini-') || listed.includes(model);
    },

    stream(req: ChatRequest, ctx: ProviderContext): AsyncIterable<StreamPart> {
      if (req.messages.some((m) => m.content.some((p) => p.type === 'image'))) {
        throw new BadRequest('Image input is not supported by the gemini-cli provider yet; send text only.', {
          param: 'messages',
          code: 'unsupported_content',
        });
      }
      const env = geminiEnv(sourceEnv);
      return runCliRequest(
        opts.runtime,
        {
          cli: 'gemini',
          pathVariable: 'GEMINI_CLI_PATH',
          command: opts.cliPath,
          args: geminiArgs(req.model === 'gemini' ? opts.defaultModel : req.model),
          env,
          stdin: renderTranscript(req),
          template: 'gemini',
          translator: new GeminiStreamTranslator(true),
          prepare: (dir) => writeSystemPrompt(dir, req.system),
          sessionFiles: (cwd) => sessionFiles(env.HOME, cwd),
        },
        ctx,
      );
    },

    status,
  };
}
