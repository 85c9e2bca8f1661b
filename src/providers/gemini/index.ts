/**
 * The Gemini CLI provider: every request runs `gemini -p … -o stream-json` in its own
 * sandbox (whose .gemini/settings.json offers only web search and fetch, and makes
 * one attempt so errors surface at once instead of after minutes of retries).
 */
import { execa } from 'execa';
import type { Provider, ProviderContext, ModelInfo, ProviderStatus } from '../../core/provider.js';
import type { ChatRequest } from '../../core/request.js';
import type { StreamPart } from '../../core/stream.js';
import { BadRequest } from '../../core/errors.js';
import { renderTranscript } from '../../runtime/transcript.js';
import { runCliRequest, type CliRuntime } from '../../runtime/cli-request.js';
import { geminiArgs, geminiEnv, sessionFiles, writeSystemPrompt } from './client.js';
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
  const sourceEnv = opts.env ?? process.env;
  const listed = [...new Set([opts.defaultModel, ...opts.models])];
  return {
    id: 'gemini-cli',

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

    async status(): Promise<ProviderStatus> {
      try {
        const { stdout } = await execa(opts.cliPath, ['--version'], { env: geminiEnv(sourceEnv), timeout: 15_000 });
        return { id: 'gemini-cli', available: true, detail: { path: opts.cliPath, version: stdout.trim() } };
      } catch (err) {
        const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
        return { id: 'gemini-cli', available: false, detail: { path: opts.cliPath, error: reason } };
      }
    },
  };
}
