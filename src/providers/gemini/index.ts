/**
 * The Gemini CLI provider: `gemini -p … -o stream-json` per request, in its own sandbox
 * (whose .gemini/settings.json offers only web search and fetch, and makes one attempt
 * so errors surface at once instead of after minutes of retries).
 */
import type { Provider } from '../../core/provider.js';
import type { CliRuntime } from '../../runtime/cli-request.js';
import { cliProvider } from '../../runtime/cli-provider.js';
import { GEMINI_STDIN_HEAD, geminiArgs, geminiEnv, sessionFiles, systemPrompt } from './client.js';
import { GeminiStreamTranslator } from './translate.js';

export interface GeminiProviderOptions {
  cliPath: string;
  /** the model for the bare name "gemini" */
  defaultModel: string;
  models: readonly string[];
  runtime: CliRuntime;
  env?: NodeJS.ProcessEnv;
}

export function createGeminiProvider(opts: GeminiProviderOptions): Provider {
  return cliProvider({
    id: 'gemini-cli',
    cli: 'gemini',
    pathVariable: 'GEMINI_CLI_PATH',
    cliPath: opts.cliPath,
    models: [opts.defaultModel, ...opts.models],
    matches: (model) => model === 'gemini' || model.startsWith('gemini-'),
    credentials: {
      env: ['GEMINI_API_KEY', 'GOOGLE_API_KEY', 'GOOGLE_GENAI_USE_VERTEXAI', 'GOOGLE_APPLICATION_CREDENTIALS'],
      homeFiles: ['.gemini/oauth_creds.json'],
      login: 'gemini (then choose "Login with Google")',
    },
    runtime: opts.runtime,
    env: geminiEnv,
    ...(opts.env ? { sourceEnv: opts.env } : {}),
    // the CLI reads an @path in the prompt and sends the image inline
    imageText: (att) => `[${att.label}] @${att.path} `,
    invocation: (req, env) => {
      const system = systemPrompt(req.system);
      return {
        args: geminiArgs(req.model === 'gemini' ? opts.defaultModel : req.model),
        translator: new GeminiStreamTranslator(true),
        // the system prompt is a file the CLI reads: part of a warm process's shape
        setupFiles: system.files,
        env: system.env,
        stdinHead: GEMINI_STDIN_HEAD,
        // the prompt comes on stdin once the CLI has started (images are @paths read with it)
        warm: true,
        sessionFiles: (cwd) => sessionFiles(env.HOME, cwd),
      };
    },
  });
}
