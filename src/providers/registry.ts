/** Every provider, built from config. Adding a provider adds one line here. */
import type { Provider } from '../core/provider.js';
import type { Config } from '../config.js';
import type { CliRuntime } from '../runtime/cli-request.js';
import { createClaudeProvider } from './claude/index.js';
import { createGeminiProvider } from './gemini/index.js';
import { createQwenProvider } from './qwen/index.js';
import { createCodexProvider } from './codex/index.js';

export function createProviders(config: Config, runtime: CliRuntime, env: NodeJS.ProcessEnv): Provider[] {
  return [
    createClaudeProvider({
      cliPath: config.CLAUDE_CLI_PATH,
      models: config.CLAUDE_MODELS,
      allowedTools: config.CLAUDE_ALLOWED_TOOLS,
      runtime,
      env,
    }),
    createGeminiProvider({ cliPath: config.GEMINI_CLI_PATH, defaultModel: config.GEMINI_MODEL, models: config.GEMINI_MODELS, runtime, env }),
    createQwenProvider({ cliPath: config.QWEN_CLI_PATH, defaultModel: config.QWEN_MODEL, models: config.QWEN_MODELS, runtime, env }),
    createCodexProvider({ cliPath: config.CODEX_CLI_PATH, defaultModel: config.CODEX_MODEL, models: config.CODEX_MODELS, runtime, env }),
  ];
}
