/**
 * Reads the workspace: every package's declared @csq dependencies, the @csq packages its source
 * files import, and the relative imports among its source files.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** One workspace package. */
export interface WorkspacePackage {
  /** `packages/NAME` or `apps/NAME`. */
  path: string;
  /** Directory name (the key of LEVELS). */
  dir: string;
  name: string;
  isApp: boolean;
  /** @csq packages in dependencies, peerDependencies and devDependencies. */
  declared: { name: string; field: string }[];
}

/** Every package under packages/ and apps/. */
export function workspacePackages(): WorkspacePackage[] {
  const out: WorkspacePackage[] = [];
  for (const group of ['packages', 'apps']) {
    const root = join(REPO, group);
    if (!existsSync(root)) continue;
    for (const dir of readdirSync(root).sort()) {
      const file = join(root, dir, 'package.json');
      if (!existsSync(file)) continue;
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      const declared: WorkspacePackage['declared'] = [];
      for (const field of ['dependencies', 'peerDependencies', 'devDependencies']) {
        for (const name of Object.keys((pkg[field] as Record<string, string>) ?? {})) {
          if (name.startsWith('@csq/')) declared.push({ name, field });
        }
      }
      out.push({
        path: `${group}/${dir}`,
        dir,
        name: pkg.name as string,
        isApp: group === 'apps',
        declared,
      });
    }
  }
  return out;
}

/** Every .ts file under `dir` (recursively), skipping node_modules and dist. */
export function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === 'dist') continue;
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (/\.(ts|mts|tsx)$/.test(entry) && !entry.endsWith('.d.ts')) out.push(p);
  }
  return out.sort();
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g;

/** The module specifiers a source text imports or re-exports (comments are not skipped). */
export function importsOf(text: string): string[] {
  return [...text.matchAll(IMPORT)].map((m) => m[1]!);
}

/** The @csq package a specifier names (`@csq/layers/node` -> `@csq/layers`), or undefined. */
export function csqPackageOf(specifier: string): string | undefined {
  const m = /^(@csq\/[^/]+)/.exec(specifier);
  return m?.[1];
}

/**
 * The graph of relative imports among the non-test source files of `srcDir`: file -> files
 * it imports (paths relative to the repository root).
 */
export function moduleGraph(srcDir: string): Map<string, string[]> {
  const files = tsFiles(srcDir).filter((f) => !/\.test\.tsx?$/.test(f));
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const targets: string[] = [];
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const base = resolve(dirname(file), spec).replace(/\.(m?js)$/, '');
      const hit = [`${base}.ts`, `${base}.mts`, `${base}.tsx`, join(base, 'index.ts')].find((c) =>
        known.has(c),
      );
      if (hit) targets.push(relative(REPO, hit));
    }
    graph.set(relative(REPO, file), targets);
  }
  return graph;
}

/** Strongly connected components of more than one module, or a module importing itself. */
export function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}
