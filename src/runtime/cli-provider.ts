/**
 * What every CLI provider has in common, in one place: the model list and name
 * matching, refusing what CLIs cannot take yet (images), the cached status probe,
 * and running each request through runCliRequest. A CLI provider only says how its
 * CLI is called and read (its `client.ts` and translator).
 */
import type { ModelInfo, Provider, ProviderContext } from '../core/provider.js';
import type { ChatRequest } from '../core/request.js';
import type { StreamPart } from '../core/stream.js';
import { BadRequest } from '../core/errors.js';
import { renderTranscript } from './transcript.js';
import { runCliRequest, type CliInvocation, type CliRuntime } from './cli-request.js';
import { cachedProbe, type CredentialSources } from './cli-status.js';

const STATUS_TTL_MS = 24 * 60 * 60 * 1000;

export interface CliProviderSpec {
  /** provider id, e.g. "gemini-cli" */
  id: string;
  /** the CLI's name, e.g. "gemini" (messages, sandbox template folder) */
  cli: string;
  /** env variable that names the executable */
  pathVariable: string;
  cliPath: string;
  /** listed by /v1/models; the first is the default */
  models: readonly string[];
  /** names served beyond the listed ones */
  matches(model: string): boolean;
  credentials: CredentialSources;
  runtime: CliRuntime;
  /** the environment the CLI gets, built from the server's */
  env(source: NodeJS.ProcessEnv): Record<string, string>;
  sourceEnv?: NodeJS.ProcessEnv;
  supportsThinking?: boolean;
  /** how this request is run: arguments, translator, request files, session files */
  invocation(req: ChatRequest, env: Record<string, string>): Pick<CliInvocation, 'args' | 'translator' | 'prepare' | 'sessionFiles'>;
}

export function cliProvider(spec: CliProviderSpec): Provider {
  const sourceEnv = spec.sourceEnv ?? process.env;
  const listed = [...new Set(spec.models)];
  const status = cachedProbe({ id: spec.id, cliPath: spec.cliPath, env: spec.env(sourceEnv), credentials: spec.credentials }, STATUS_TTL_MS);
  return {
    id: spec.id,
    progressVariants: true,
    ...(spec.supportsThinking ? { supportsThinking: true } : {}),
    models: (): ModelInfo[] => listed.map((id) => ({ id, provider: spec.id })),
    handles: (model) => listed.includes(model) || spec.matches(model),
    status,
    stream(req: ChatRequest, ctx: ProviderContext): AsyncIterable<StreamPart> {
      if (req.messages.some((m) => m.content.some((p) => p.type === 'image'))) {
        throw new BadRequest(`Image input is not supported by the ${spec.id} provider yet; send text only.`, {
          param: 'messages',
          code: 'unsupported_content',
        });
      }
      const env = spec.env(sourceEnv);
      return runCliRequest(
        spec.runtime,
        {
          cli: spec.cli,
          pathVariable: spec.pathVariable,
          command: spec.cliPath,
          env,
          stdin: renderTranscript(req),
          template: spec.cli,
          ...spec.invocation(req, env),
        },
        ctx,
      );
    },
  };
}
