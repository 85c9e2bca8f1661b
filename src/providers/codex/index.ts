/** The Codex provider: `codex exec --json` per request, in its own sandbox folder, read-only and tool-less. */
import type { Provider } from '../../core/provider.js';
import type { CliRuntime } from '../../runtime/cli-request.js';
import { cliProvider } from '../../runtime/cli-provider.js';
import { codexArgs, codexEnv } from './client.js';
import { CodexStreamTranslator } from './translate.js';

export interface CodexProviderOptions {
  cliPath: string;
  /** the model for the bare name "codex" */
  defaultModel: string;
  models: readonly string[];
  runtime: CliRuntime;
  env?: NodeJS.ProcessEnv;
}

export function createCodexProvider(opts: CodexProviderOptions): Provider {
  return cliProvider({
    id: 'codex-cli',
    cli: 'codex',
    pathVariable: 'CODEX_CLI_PATH',
    cliPath: opts.cliPath,
    models: [opts.defaultModel, ...opts.models],
    // gpt-*, the o-series (o1, o3, o4-mini, …) and codex-*
    matches: (model) => model === 'codex' || /^(gpt-|codex-|o\d)/.test(model),
    credentials: { env: ['OPENAI_API_KEY', 'CODEX_API_KEY'], homeFiles: ['.codex/auth.json'], login: 'codex login' },
    runtime: opts.runtime,
    env: codexEnv,
    ...(opts.env ? { sourceEnv: opts.env } : {}),
    // --ephemeral: Codex writes no session files, so there is nothing to clean up
    // codex names attached images itself, with their path: the prompt names the path too
    imageText: (att) => `[${att.label}] (${att.path})`,
    invocation: (req, _env, { images }) => ({
      args: codexArgs(req.model === 'codex' ? opts.defaultModel : req.model, req.system, images.map((a) => a.path)),
      translator: new CodexStreamTranslator(),
      // \`codex exec -\` reads its prompt from stdin, as it starts (most of its start-up comes after: see
      // the README's performance figures); a request with images names them in the arguments: cold
      warm: images.length === 0,
    }),
  });
}
