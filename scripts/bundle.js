#!/usr/bin/env node
/**
 * The server as one file: src/main.ts and everything it imports, dependencies included (sharp
 * excepted: a native module, loaded from node_modules), bundled by esbuild into dist/main.js.
 * Node then reads and compiles one file instead of resolving ~170 own modules and ~600 of the
 * dependencies' one by one, which is most of what start-up cost (issue 22, part 4).
 *
 *   node scripts/bundle.js              build it (`npm run build` runs it after tsc)
 *   node scripts/bundle.js --if-stale   build it only when it is not current (the `prepare` hook)
 *
 * `npm start` (scripts/start.js) runs the bundle, building it first when it is not current; the
 * Docker image runs the bundle `npm run build` made. `npm run dev` and the tests run the sources
 * through tsx.
 *
 * Current means: dist/main.js is a bundle (its first line is the marker, with the time of the
 * newest input when the build began; tsc's per-file dist/main.js has none) and nothing it was
 * made from is newer than that: a file or folder under src/, this script, package.json,
 * tsconfig.json or the installed dependencies (node_modules/.package-lock.json, which npm
 * rewrites on every install). A source saved during a build therefore leaves it stale. The
 * bundle is written to a file of its own and renamed into place, so starts that build at the
 * same time each see a whole file.
 */
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUNDLE = path.join(ROOT, 'dist', 'main.js');
const SRC = path.join(ROOT, 'src');
const MARKER = '// cligate server bundle (scripts/bundle.js), inputs as of ';
/** files outside src/ the bundle depends on */
const INPUTS = [fileURLToPath(import.meta.url), 'package.json', 'tsconfig.json', 'node_modules/.package-lock.json'].map((f) => path.resolve(ROOT, f));

/** the newest modification time (ms) among the bundle's inputs */
function newestInput() {
  let newest = 0;
  const walk = (dir) => {
    newest = Math.max(newest, statSync(dir).mtimeMs);
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  walk(SRC);
  for (const f of INPUTS) if (existsSync(f)) newest = Math.max(newest, statSync(f).mtimeMs);
  return newest;
}

/** the input time a bundle's first line records, or undefined when `file` is not a bundle */
function bundledAsOf(file) {
  if (!existsSync(file)) return undefined;
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(MARKER.length + 40);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const line = buf.subarray(0, n).toString().split('\n')[0];
    return line.startsWith(MARKER) ? Number(line.slice(MARKER.length)) : undefined;
  } finally {
    closeSync(fd);
  }
}

/** whether dist/main.js is a bundle made from the inputs as they are now */
function bundleIsCurrent() {
  const asOf = bundledAsOf(BUNDLE);
  return asOf !== undefined && newestInput() <= asOf;
}

/**
 * import.meta in a source file means that file's place: in the bundle, each file's
 * import.meta.url / dirname / filename become where tsc would have put it (dist/<path>.js), so
 * paths made from them (the package root, public/, sandbox/) come out as in the per-file build.
 */
const importMetaPerFile = {
  name: 'import-meta-per-file',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (!args.path.startsWith(SRC + path.sep)) return undefined;
      let text = await readFile(args.path, 'utf8');
      if (text.includes('import.meta')) {
        const rel = JSON.stringify(path.relative(SRC, args.path).replace(/\.ts$/, '.js').split(path.sep).join('/'));
        text = text
          .replaceAll('import.meta.url', `__cligateFileUrl(${rel})`)
          .replaceAll('import.meta.filename', `__cligateFilePath(${rel})`)
          .replaceAll('import.meta.dirname', `__cligateDirPath(${rel})`);
        const left = /import\.meta\.?\w*/.exec(text);
        if (left) throw new Error(`${path.relative(ROOT, args.path)}: ${left[0]} has no meaning in the bundle (scripts/bundle.js maps url, filename, dirname)`);
      }
      return { contents: text, loader: 'ts' };
    });
  },
};

/** the bundle's own preamble: require, __dirname and __filename for the CommonJS dependencies, and the per-file import.meta */
const banner = (asOf) => `${MARKER}${asOf}
import { createRequire as __cligateCreateRequire } from 'node:module';
import { dirname as __cligateDirname } from 'node:path';
import { fileURLToPath as __cligateFileURLToPath } from 'node:url';
const require = __cligateCreateRequire(import.meta.url);
const __filename = __cligateFileURLToPath(import.meta.url);
const __dirname = __cligateDirname(__filename);
const __cligateFileUrl = (rel) => new URL(rel, import.meta.url).href;
const __cligateFilePath = (rel) => __cligateFileURLToPath(__cligateFileUrl(rel));
const __cligateDirPath = (rel) => __cligateDirname(__cligateFilePath(rel));`;

/** builds dist/main.js; returns its path */
async function buildBundle() {
  const { build } = await import('esbuild');
  const newest = newestInput();
  const tmp = `${BUNDLE}.${process.pid}.tmp`;
  await mkdir(path.dirname(BUNDLE), { recursive: true });
  try {
    await build({
      entryPoints: [path.join(SRC, 'main.ts')],
      outfile: tmp,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20.12',
      // a native module with its own loader of platform binaries
      external: ['sharp'],
      banner: { js: banner(newest) },
      plugins: [importMetaPerFile],
      logLevel: 'warning',
      legalComments: 'none',
    });
    await rename(tmp, BUNDLE);
  } finally {
    await rm(tmp, { force: true });
  }
  return BUNDLE;
}

/** the bundle, built first when it is not current */
export async function currentBundle() {
  if (!bundleIsCurrent()) await buildBundle();
  return BUNDLE;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const onlyIfStale = process.argv.includes('--if-stale');
  const t0 = performance.now();
  // on stderr: npm pack --json passes the lifecycle scripts' stdout into its own
  if (onlyIfStale && bundleIsCurrent()) process.stderr.write(`${path.relative(ROOT, BUNDLE)} is current\n`);
  else {
    await buildBundle();
    process.stderr.write(`${path.relative(ROOT, BUNDLE)} bundled in ${Math.round(performance.now() - t0)} ms\n`);
  }
}
