/**
 * Every entry point of every published package (each `exports` subpath, e.g. `@csq/data/node`)
 * resolves with its types in a TypeScript consumer under `moduleResolution` `nodenext` (what
 * `tsc --init` writes) from ES modules and CommonJS, and under `bundler`. The consumer links the
 * built packages (turbo builds them before this package's tests) into its node_modules, as an
 * install would place them. Packages are read from the workspace, so new ones are covered.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../../..');
const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
const project = mkdtempSync(join(tmpdir(), 'csq-types-'));

interface Entry {
  pkg: string;
  specifier: string;
  /** Resolvable under the old `node10` resolution too (the root, or mapped by typesVersions). */
  node10: boolean;
}

function entries(): Entry[] {
  const out: Entry[] = [];
  const base = join(repo, 'packages');
  for (const dir of readdirSync(base).sort()) {
    const file = join(base, dir, 'package.json');
    if (!existsSync(file)) continue;
    const m = JSON.parse(readFileSync(file, 'utf8')) as {
      name: string;
      private?: boolean;
      exports?: Record<string, unknown>;
      typesVersions?: Record<string, Record<string, string[]>>;
    };
    const mapped = new Set(Object.values(m.typesVersions ?? {}).flatMap((t) => Object.keys(t)));
    if (m.private) continue;
    for (const sub of Object.keys(m.exports ?? { '.': null })) {
      if (sub === './package.json' || sub.includes('*')) continue;
      const specifier = sub === '.' ? m.name : `${m.name}${sub.slice(1)}`;
      out.push({ pkg: dir, specifier, node10: sub === '.' || mapped.has(sub.slice(2)) });
    }
  }
  return out;
}

const all = entries();

function compile(args: string[], files: string[]): string {
  try {
    execFileSync(
      process.execPath,
      [
        tsc,
        '--noEmit',
        '--strict',
        '--skipLibCheck',
        '--types',
        'node',
        '--typeRoots',
        join(repo, 'node_modules', '@types'),
        ...args,
        ...files,
      ],
      { cwd: project, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 },
    );
    return '';
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}`.trim() || String(err);
  }
}

beforeAll(() => {
  mkdirSync(join(project, 'node_modules', '@csq'), { recursive: true });
  for (const dir of new Set(all.map((e) => e.pkg))) {
    const pkgDir = join(repo, 'packages', dir);
    if (!existsSync(join(pkgDir, 'dist')))
      throw new Error(`packages/${dir} has no dist/: build first`);
    const name = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).name as string;
    symlinkSync(pkgDir, join(project, 'node_modules', name), 'dir');
  }
  writeFileSync(join(project, 'package.json'), '{ "name": "consumer", "type": "module" }\n');
  const esm = all.map((e, i) => `import * as m${i} from '${e.specifier}';\n`).join('');
  const keys = `export const keys: string[][] = [${all.map((_, i) => `Object.keys(m${i})`).join(', ')}];\n`;
  // a typed use: loadData's result is DataSplits, not any
  const typed =
    "import type { DataSplits } from '@csq/data';\n" +
    "import { loadData } from '@csq/data/node';\n" +
    "export const splits: Promise<DataSplits> = loadData('mnist');\n" +
    '// @ts-expect-error: a number is not a data spec\nloadData(42);\n';
  writeFileSync(join(project, 'esm.mts'), esm + keys + typed);
  writeFileSync(join(project, 'bundler.ts'), esm + keys + typed);
  // node10 (tsc's resolution when no module option is set): only what the package maps
  writeFileSync(
    join(project, 'node10.ts'),
    all
      .filter((e) => e.node10)
      .map((e, i) => `import * as n${i} from '${e.specifier}';\nvoid n${i};\n`)
      .join('') + typed,
  );
  writeFileSync(
    join(project, 'cjs.cts'),
    all.map((e, i) => `import m${i} = require('${e.specifier}');\n`).join('') + keys,
  );
}, 120_000);

afterAll(() => rmSync(project, { recursive: true, force: true }));

describe('entry points under TypeScript module resolution', () => {
  it('covers every exports subpath, @csq/data/node among them', () => {
    expect(all.map((e) => e.specifier)).toEqual(
      expect.arrayContaining(['@csq/core', '@csq/data', '@csq/data/node', '@csq/layers/node']),
    );
  });

  it('resolve with types under nodenext, from ES modules and CommonJS', () => {
    expect(
      compile(['--module', 'nodenext', '--moduleResolution', 'nodenext'], ['esm.mts', 'cjs.cts']),
    ).toBe('');
  });

  it('resolve with types under bundler', () => {
    expect(compile(['--module', 'esnext', '--moduleResolution', 'bundler'], ['bundler.ts'])).toBe(
      '',
    );
  });

  it('resolve under node10 (no module option) for roots and typesVersions subpaths', () => {
    expect(all.filter((e) => e.node10).map((e) => e.specifier)).toEqual(
      expect.arrayContaining(['@csq/data/node', '@csq/layers/node', '@csq/trainer-webgpu/node']),
    );
    // the consumer's package.json says "type": "module"; node10 ignores it
    expect(compile(['--module', 'commonjs', '--moduleResolution', 'node10'], ['node10.ts'])).toBe(
      '',
    );
  });

  it('fail the same compile when an entry point is missing (the check can fail)', () => {
    writeFileSync(join(project, 'missing.mts'), "import * as x from '@csq/data/nope';\nvoid x;\n");
    expect(
      compile(['--module', 'nodenext', '--moduleResolution', 'nodenext'], ['missing.mts']),
    ).toMatch(/Cannot find module '@csq\/data\/nope'/);
  });
});
