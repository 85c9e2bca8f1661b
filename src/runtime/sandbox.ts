/**
 * Per-request sandboxes: a fresh temporary directory made from the top-level
 * `sandbox/` template (the CLI settings that make it chat-only). Every live sandbox
 * is tracked so shutdown, and even a crash, removes them all.
 */
import { cp, rm } from 'node:fs/promises';
import { rmSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dir as tmpDir } from 'tmp-promise';

export const DEFAULT_TEMPLATE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../sandbox');

export interface Sandbox {
  readonly path: string;
  /** remove the directory; safe to call more than once */
  cleanup(): Promise<void>;
}

const live = new Set<string>();

export function liveSandboxes(): readonly string[] {
  return [...live];
}

/** Copy `templateDir/<subdir>` (or the whole template) into a new temporary directory. */
export async function createSandbox(templateDir: string, subdir?: string): Promise<Sandbox> {
  // tmp-promise adds "-<pid>-<random>": names stay [A-Za-z0-9-], which every CLI's per-folder naming keeps as is
  const tmp = await tmpDir({ prefix: 'cligate', unsafeCleanup: true });
  live.add(tmp.path);
  const sandbox: Sandbox = {
    path: tmp.path,
    async cleanup() {
      if (!live.delete(tmp.path)) return;
      // tmp keeps a removal callback per directory until its own cleanup runs: run it, or
      // every sandbox ever made stays referenced (found by the soak's heap snapshots)
      await tmp.cleanup().catch(() => {});
      await rm(tmp.path, { recursive: true, force: true, maxRetries: 3 });
    },
  };
  try {
    const source = subdir ? path.join(templateDir, subdir) : templateDir;
    if (existsSync(source)) await cp(source, tmp.path, { recursive: true });
  } catch (err) {
    await sandbox.cleanup();
    throw err;
  }
  return sandbox;
}

/** Last-resort synchronous removal, for process exit. */
export function removeAllSandboxesSync(): void {
  for (const p of live) {
    try {
      rmSync(p, { recursive: true, force: true });
    } catch {
      // exit path: nothing more can be done, and throwing here would hide the real exit cause
    }
    live.delete(p);
  }
}
