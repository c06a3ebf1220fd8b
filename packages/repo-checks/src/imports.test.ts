/**
 * The import direction of ../shared/spec/architecture.md, checked on the workspace as it is:
 * no package uses a package above it (in package.json or in a source import), no app uses an
 * app, test-utils uses no csq package, and no two modules of a package import each other.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_LEVEL, LEVELS, SAME_LEVEL_ALLOWED, TOOLING } from './layering.js';
import {
  csqPackageOf,
  cycles,
  importsOf,
  moduleGraph,
  REPO,
  tsFiles,
  type WorkspacePackage,
  workspacePackages,
} from './scan.js';

/**
 * Violations other work removes (each is also checked to still occur, so the list cannot go
 * stale): delete an entry when its fix lands.
 */
const KNOWN: readonly string[] = [];

const packages = workspacePackages();
const byName = new Map(packages.map((p) => [p.name, p]));
const isTooling = (p: WorkspacePackage) => TOOLING.includes(p.dir) && !p.isApp;
const level = (p: WorkspacePackage) => (p.isApp ? APP_LEVEL : LEVELS[p.dir]);

/** Why `from` may not use `to`, or undefined when it may. */
function violation(from: WorkspacePackage, to: WorkspacePackage): string | undefined {
  if (isTooling(to)) return undefined; // test-utils: devDependencies of any package
  if (from.isApp && to.isApp) return 'an app must not use another app';
  const [a, b] = [level(from), level(to)];
  if (a === undefined || b === undefined) return undefined; // reported by the first test
  if (b < a || SAME_LEVEL_ALLOWED[from.dir]?.includes(to.dir)) return undefined;
  return b === a
    ? `${from.dir} and ${to.dir} sit side by side and must not import each other`
    : `${to.dir} is above ${from.dir} in the dependency order`;
}

function allViolations(): string[] {
  const out = new Set<string>();
  for (const from of packages) {
    if (isTooling(from)) continue;
    for (const d of from.declared) {
      const to = byName.get(d.name);
      const why = to && violation(from, to);
      if (why) out.add(`${from.path} -> ${d.name} (package.json ${d.field}): ${why}`);
    }
    for (const file of tsFiles(join(REPO, from.path, 'src'))) {
      for (const spec of importsOf(readFileSync(file, 'utf8'))) {
        const name = csqPackageOf(spec);
        const to = name && byName.get(name);
        const why = to && to !== from && violation(from, to);
        if (why) out.add(`${from.path} -> ${name} (source import): ${why}`);
      }
    }
  }
  return [...out].sort();
}

describe('dependency direction', () => {
  it('every package has a place in the order', () => {
    const unplaced = packages
      .filter((p) => !p.isApp && !isTooling(p) && LEVELS[p.dir] === undefined)
      .map((p) => p.path);
    expect(unplaced, 'add these to LEVELS in src/layering.ts').toEqual([]);
  });

  it('no package uses one above it, and no app uses an app', () => {
    const found = allViolations();
    expect(found.filter((v) => !KNOWN.includes(v))).toEqual([]);
    expect(
      KNOWN.filter((v) => !found.includes(v)),
      'fixed: remove from KNOWN',
    ).toEqual([]);
  });

  it('test-utils uses no csq package (its users include core, layers and data)', () => {
    expect(byName.get('@csq/test-utils')?.declared).toEqual([]);
  });

  it('the check itself fails on an upward import', () => {
    const fake = (dir: string, isApp = false): WorkspacePackage => ({
      path: `packages/${dir}`,
      dir,
      name: `@csq/${dir}`,
      isApp,
      declared: [],
    });
    expect(violation(fake('layers'), fake('trainer'))).toMatch(/above/);
    expect(violation(fake('report'), fake('layers'))).toMatch(/side by side/);
    expect(violation(fake('trainer'), fake('run-format'))).toBeUndefined();
    expect(violation(fake('a', true), fake('b', true))).toMatch(/another app/);
  });
});

describe('no import cycles among the modules of a package', () => {
  it.each(packages.map((p) => [p.path]))('%s', (path) => {
    expect(cycles(moduleGraph(join(REPO, path, 'src')))).toEqual([]);
  });

  it('the check itself finds a cycle', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    expect(cycles(g)).toEqual([['a', 'b', 'c']]);
  });
});
