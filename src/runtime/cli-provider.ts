/**
 * What every CLI provider has in common, in one place: the model list and name
 * matching, images saved in the sandbox, the cached status probe,
 * and running each request through runCliRequest. A CLI provider only says how its
 * CLI is called and read (its `client.ts` and translator).
 */
import type { ModelInfo, Provider, ProviderContext } from '../core/provider.js';
import type { ChatRequest } from '../core/request.js';
import type { StreamPart } from '../core/stream.js';
import { renderTranscript, type ImageText } from '../features/transcript.js';
import { attachmentFor, attachmentsOf, type Attachment } from './attachments.js';
import { runCliRequest, warmSpecOf, type CliInvocation, type CliRuntime } from './cli-request.js';
import { cachedProbe, type CredentialSources } from './cli-status.js';
import { resolveCliPath } from './cli-path.js';

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
  /** hosted tool types the CLI runs itself (its own web search) */
  hostedTools?: readonly string[];
  /** how an image is named in the prompt (default "[Image #N]"); a CLI that reads @paths gets its path */
  imageText?(att: Attachment): string;
  /**
   * how this request is run: arguments, translator, the files the CLI reads as it starts, session
   * files, whether a warm process may serve it; stdin to replace the prompt, environment to add
   */
  invocation(
    req: ChatRequest,
    env: Record<string, string>,
    input: { prompt: string; images: Attachment[] },
  ): Pick<CliInvocation, 'args' | 'translator' | 'setupFiles' | 'stdinHead' | 'sessionFiles' | 'warm'> & { stdin?: string; env?: Record<string, string> };
}

export function cliProvider(spec: CliProviderSpec): Provider {
  const sourceEnv = spec.sourceEnv ?? process.env;
  const listed = [...new Set(spec.models)];
  // a bare name is looked up on PATH without cligate's own node_modules/.bin (cli-path.ts), at each
  // start: a CLI installed while the server runs is found; the CLI gets that PATH too
  const launch = (env: Record<string, string>): { command: string; env: Record<string, string> } => {
    const r = resolveCliPath(spec.cliPath, env);
    return { command: r.command, env: r.searched && r.pathEnv !== undefined ? { ...env, PATH: r.pathEnv } : env };
  };
  const status = cachedProbe({ id: spec.id, cliPath: spec.cliPath, env: spec.env(sourceEnv), credentials: spec.credentials }, STATUS_TTL_MS);
  return {
    id: spec.id,
    progressVariants: true,
    ...(spec.supportsThinking ? { supportsThinking: true } : {}),
    ...(spec.hostedTools?.length ? { hostedTools: spec.hostedTools } : {}),
    models: (): ModelInfo[] => listed.map((id) => ({ id, provider: spec.id })),
    handles: (model) => listed.includes(model) || spec.matches(model),
    status,
    // a status probe still running ends with the server
    close: () => status.stop(),
    prewarm(model: string): void {
      const { command, env } = launch(spec.env(sourceEnv));
      const inv = spec.invocation({ model, messages: [], stream: true }, env, { prompt: '', images: [] });
      if (inv.warm) spec.runtime.warm?.want(warmSpecOf({ ...inv, command, env: { ...env, ...inv.env }, template: spec.cli }));
    },
    stream(req: ChatRequest, ctx: ProviderContext): AsyncIterable<StreamPart> {
      const { command, env } = launch(spec.env(sourceEnv));
      // images were prepared by the images feature: saved in the sandbox, shown the CLI's way
      const images = attachmentsOf(req);
      const imageText: ImageText | undefined = spec.imageText
        ? (part) => {
            const att = attachmentFor(images, part);
            return att ? spec.imageText!(att) : `[${part.label ?? 'image'}]`;
          }
        : undefined;
      const prompt = renderTranscript(req, imageText);
      const inv = spec.invocation(req, env, { prompt, images });
      return runCliRequest(
        spec.runtime,
        {
          cli: spec.cli,
          pathVariable: spec.pathVariable,
          command,
          stdin: prompt,
          template: spec.cli,
          files: images.map((a) => ({ path: a.path, data: Buffer.from(a.data, 'base64') })),
          ...inv,
          env: { ...env, ...inv.env },
        },
        ctx,
      );
    },
  };
}
