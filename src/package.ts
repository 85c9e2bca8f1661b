/**
 * cligate's own package: the folder that holds its package.json (and public/, sandbox/, config/),
 * the same from src/ (tsx) and dist/ (the compiled, installed command).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

let version: string | undefined;

/** the version in cligate's package.json */
export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}
