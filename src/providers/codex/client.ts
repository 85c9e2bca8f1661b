/** How `codex exec` is invoked: arguments and environment. */
import { childEnv } from '../../runtime/env.js';

/** variables a user may set for Codex (API key, its home, Azure) that must reach it */
const PASS_PREFIXES = ['OPENAI_', 'CODEX_', 'AZURE_OPENAI_'];

/** everything that would let the model act on the machine, off */
const CHAT_ONLY = [
  'features.shell_tool=false',
  'features.apps=false',
  'features.browser_use=false',
  'features.multi_agent=false',
  'features.goals=false',
  'features.shell_snapshot=false',
  'features.memories=false',
];

export function codexArgs(model: string, system: string | undefined, imagePaths: string[] = []): string[] {
  const args = ['exec', '--json', '--skip-git-repo-check', '--ephemeral', '--color', 'never', '-s', 'read-only', '-m', model];
  for (const c of CHAT_ONLY) args.push('-c', c);
  // a JSON string is a valid TOML basic string
  if (system) args.push('-c', `developer_instructions=${JSON.stringify(system)}`);
  // "--image=" form: the flag takes several values and would swallow the "-" after it
  for (const p of imagePaths) args.push(`--image=${p}`);
  args.push('-'); // the prompt comes on stdin
  return args;
}

export function codexEnv(source: NodeJS.ProcessEnv): Record<string, string> {
  return childEnv(source, PASS_PREFIXES, { NO_COLOR: '1' });
}
