/**
 * Which executable a CLI provider runs. A bare name (`claude`, the default of CLAUDE_CLI_PATH) is
 * looked up on PATH the way a shell outside npm would see it: `npm start` / `npm run` / `npx` put
 * this project's own `node_modules/.bin` (and that of every folder above it) and npm's
 * `node-gyp-bin` first on PATH, and there sit the vendor CLIs pinned as devDependencies for the
 * tests, which are not the ones the user installed and logged in to. Those entries are skipped;
 * a path (anything with a slash, e.g. `./node_modules/.bin/claude`) is used as it is.
 */
import { realpathSync } from 'node:fs';
import path from 'node:path';
import which from 'which';
import { PACKAGE_ROOT } from '../package.js';


export interface ResolvedCli {
  /** what is run: an absolute path when a bare name was found, else the value as given */
  command: string;
  /** the value of the *_CLI_PATH variable */
  given: string;
  /** the bare name was looked up on PATH (a path is used as is) */
  searched: boolean;
  /** a bare name was found on PATH (always true for a path: spawning says whether it exists) */
  found: boolean;
  /** the PATH the CLI gets: without npm's injected entries when a bare name was looked up */
  pathEnv: string | undefined;
  /** the PATH entries left out of the search */
  skipped: string[];
}

/** is it a name to look up on PATH, rather than a path? */
export function isBareName(cliPath: string): boolean {
  return !cliPath.includes('/') && !(path.sep === '\\' && cliPath.includes('\\'));
}

function real(p: string): string {
  try {
    return realpathSync.native(p);
  } catch {
    return path.resolve(p);
  }
}

const injectedByRoot = new Map<string, Set<string>>();

/** every `<folder>/node_modules/.bin` from the package root up to the file-system root: what npm puts on PATH (once per root) */
function injectedBins(root: string): Set<string> {
  let out = injectedByRoot.get(root);
  if (out) return out;
  out = new Set<string>();
  injectedByRoot.set(root, out);
  for (const start of new Set([path.resolve(root), real(root)])) {
    let dir = start;
    for (;;) {
      const bin = path.join(dir, 'node_modules', '.bin');
      out.add(bin);
      out.add(real(bin));
      const up = path.dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  return out;
}

/** npm's run-script adds `…/@npmcli/run-script/lib/node-gyp-bin` (a node-gyp shim) */
const NODE_GYP_BIN = /[\\/]@npmcli[\\/]run-script[\\/]lib[\\/]node-gyp-bin[\\/]?$/;

/** PATH without the entries npm injected for this package: its node_modules/.bin (and its parents'), node-gyp-bin */
export function searchPath(pathValue: string | undefined, root = PACKAGE_ROOT): { dirs: string[]; skipped: string[] } {
  const injected = injectedBins(root);
  const dirs: string[] = [];
  const skipped: string[] = [];
  for (const entry of (pathValue ?? '').split(path.delimiter)) {
    if (!entry) continue;
    const drop = NODE_GYP_BIN.test(entry) || injected.has(path.resolve(entry)) || injected.has(real(entry));
    (drop ? skipped : dirs).push(entry);
  }
  return { dirs, skipped };
}

/** bare names found on PATH, by package root, name and PATH */
const resolvedFound = new Map<string, ResolvedCli>();

/**
 * The executable for a *_CLI_PATH value, looked up on `env.PATH` without npm's injected entries
 * when it is a bare name.
 */
export function resolveCliPath(cliPath: string, env: { PATH?: string | undefined }, root = PACKAGE_ROOT): ResolvedCli {
  if (!isBareName(cliPath)) return { command: cliPath, given: cliPath, searched: false, found: true, pathEnv: env.PATH, skipped: [] };
  // every request asks: a CLI found is kept (no file-system walk per request), one not found is
  // looked for again, so a CLI installed while the server runs is found
  const key = `${root}\0${cliPath}\0${env.PATH ?? ''}`;
  const kept = resolvedFound.get(key);
  if (kept) return kept;
  const { dirs, skipped } = searchPath(env.PATH, root);
  const pathEnv = dirs.join(path.delimiter);
  // an empty path option would make `which` search the server's own PATH
  const hit = dirs.length ? which.sync(cliPath, { path: pathEnv, nothrow: true }) : null;
  const resolved = { command: hit ?? cliPath, given: cliPath, searched: true, found: hit !== null, pathEnv, skipped };
  if (hit !== null) resolvedFound.set(key, resolved);
  return resolved;
}

/** what "not found" means for a resolved CLI, in one sentence: where it was looked for */
export function notFoundReason(r: ResolvedCli): string {
  if (!r.searched) return `not found: '${r.given}' does not exist or is not executable`;
  const own = r.skipped.length ? ` (cligate's own ${r.skipped.filter((s) => !NODE_GYP_BIN.test(s)).length ? 'node_modules/.bin is' : 'npm entries are'} not searched: the CLIs there are test copies)` : '';
  return `not found: no '${r.given}' on PATH${own}`;
}
