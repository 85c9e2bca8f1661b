/**
 * The architecture rules of DESIGN.md, checked on the real import graph of src/:
 *
 * - src/core imports nothing outside src/core;
 * - a surface never imports a provider, the CLI runtime or the account pool;
 *   a provider never imports a surface or the server;
 * - no import cycle anywhere in src/ (type-only imports count: a cycle of types is
 *   still two modules that cannot be understood, or moved, one without the other).
 *
 * The graph comes from the TypeScript compiler itself (the native compiler's API, which
 * `typescript` 7 ships as `typescript/unstable/sync`): `SourceFile.imports` holds every
 * module specifier of a file (import and export declarations, type-only ones included,
 * `import()` calls and `import('…')` types), so nothing in a comment or a string counts.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { API } from 'typescript/unstable/sync';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(ROOT, 'src');

interface Edge {
  /** both repo-relative, e.g. "src/server/app.ts" */
  from: string;
  to: string;
  /** as written in the source */
  specifier: string;
}

interface ImportGraph {
  files: string[];
  /** imports that resolve to a file of src/ */
  edges: Edge[];
  /** everything else (packages, node: builtins), by importing file */
  external: { from: string; specifier: string }[];
  /** relative imports that point at no file: the checker would be blind to them */
  unresolved: { from: string; specifier: string }[];
}

const rel = (abs: string) => path.relative(ROOT, abs).split(path.sep).join('/');

/** NodeNext resolution of a relative specifier as this project writes them ("./x.js" is ./x.ts) */
function resolveRelative(fromAbs: string, specifier: string): string | undefined {
  const base = path.resolve(path.dirname(fromAbs), specifier);
  const candidates = [base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts'), base, `${base}.ts`, path.join(base, 'index.ts')];
  return candidates.find((c) => /\.(m?ts|json)$/.test(c) && existsSync(c));
}

function readGraph(): ImportGraph {
  const api = new API({ cwd: ROOT });
  try {
    const snapshot = api.updateSnapshot({ openProject: path.join(ROOT, 'tsconfig.json') });
    const project = snapshot.getProjects()[0];
    if (!project) throw new Error('the TypeScript API opened no project for tsconfig.json');
    const files = project.program
      .getSourceFileNames()
      .filter((f) => f.startsWith(SRC + '/') && /\.m?ts$/.test(f) && !f.endsWith('.d.ts'))
      .sort();
    const graph: ImportGraph = { files: files.map(rel), edges: [], external: [], unresolved: [] };
    for (const file of files) {
      const sf = project.program.getSourceFile(file);
      if (!sf) throw new Error(`the TypeScript API has no source file for ${rel(file)}`);
      for (const node of sf.imports) {
        const specifier = (node as unknown as { text: string }).text;
        if (!specifier.startsWith('.')) {
          graph.external.push({ from: rel(file), specifier });
          continue;
        }
        const target = resolveRelative(file, specifier);
        if (!target) graph.unresolved.push({ from: rel(file), specifier });
        else graph.edges.push({ from: rel(file), to: rel(target), specifier });
      }
    }
    return graph;
  } finally {
    api.close();
  }
}

/** strongly connected components with more than one file (or a file importing itself): Tarjan */
function tangles(files: string[], edges: Edge[]): string[][] {
  const next = new Map<string, string[]>(files.map((f) => [f, []]));
  for (const e of edges) next.get(e.from)?.push(e.to);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let counter = 0;
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (next.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return out;
}

/** one shortest cycle through the first file of a tangle, as "a -> b -> a" */
function cycleThrough(scc: string[], edges: Edge[]): string {
  const inside = new Set(scc);
  const start = scc[0]!;
  const prev = new Map<string, string>();
  const queue = [start];
  const seen = new Set([start]);
  while (queue.length) {
    const v = queue.shift()!;
    for (const e of edges) {
      if (e.from !== v || !inside.has(e.to)) continue;
      if (e.to === start) {
        const chain = [start];
        for (let x = v; x !== start; x = prev.get(x)!) chain.splice(1, 0, x);
        return [...chain, start].join(' -> ');
      }
      if (!seen.has(e.to)) {
        seen.add(e.to);
        prev.set(e.to, v);
        queue.push(e.to);
      }
    }
  }
  return scc.join(' <-> ');
}

const under = (dir: string) => (file: string) => file.startsWith(`src/${dir}/`);

function violations(graph: ImportGraph, from: (f: string) => boolean, forbidden: (f: string) => boolean): string[] {
  return graph.edges.filter((e) => from(e.from) && forbidden(e.to)).map((e) => `${e.from} imports ${e.to} ('${e.specifier}')`);
}

describe('architecture (the import graph of src/)', () => {
  let graph: ImportGraph;

  beforeAll(() => {
    graph = readGraph();
  });

  it('sees the whole graph: every relative import resolves, and the graph is not empty', () => {
    expect(graph.unresolved.map((u) => `${u.from}: '${u.specifier}'`), 'relative imports the checker cannot resolve').toEqual([]);
    // a compiler API that silently returned no imports would make every rule below pass
    expect(graph.files.length).toBeGreaterThan(50);
    expect(graph.edges.some((e) => e.from === 'src/server/app.ts' && e.to === 'src/core/errors.ts')).toBe(true);
    expect(graph.edges.some((e) => e.from === 'src/core/provider.ts' && e.to === 'src/core/stream.ts')).toBe(true);
  });

  it('src/core imports only src/core (no other module of src/, no package)', () => {
    const core = under('core');
    const bad = [
      ...violations(graph, core, (to) => !core(to)),
      ...graph.external.filter((x) => core(x.from)).map((x) => `${x.from} imports the package '${x.specifier}'`),
    ];
    expect(bad, `core must stand alone (DESIGN.md: "Nothing in core imports anything else in src/"):\n  ${bad.join('\n  ')}\n`).toEqual([]);
  });

  it('a surface never imports a provider, the CLI runtime or the accounts', () => {
    const bad = violations(graph, under('surfaces'), (to) => under('providers')(to) || under('runtime')(to) || under('accounts')(to));
    expect(bad, `surfaces speak core types only ("N surfaces + M providers, never N x M"):\n  ${bad.join('\n  ')}\n`).toEqual([]);
  });

  it('a provider never imports a surface or the server', () => {
    const bad = violations(graph, under('providers'), (to) => under('surfaces')(to) || under('server')(to));
    expect(bad, `providers see ChatRequest and StreamPart, never HTTP or a dialect:\n  ${bad.join('\n  ')}\n`).toEqual([]);
  });

  it('has no import cycle (type-only imports included)', () => {
    const found = tangles(graph.files, graph.edges).map((scc) => `${cycleThrough(scc, graph.edges)}${scc.length > 2 ? `   (tangle of ${scc.length} files: ${scc.join(', ')})` : ''}`);
    expect(found, `import cycles in src/ (move the shared declaration to a module of its own):\n  ${found.join('\n  ')}\n`).toEqual([]);
  });
});
