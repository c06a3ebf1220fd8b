import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

/** Every module specifier imported by `file` and, recursively, by its relative imports. */
function importsOf(file: string, seen = new Set<string>()): Map<string, string> {
  const found = new Map<string, string>();
  if (seen.has(file)) return found;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*from\s+'([^']+)'/g)) {
    const spec = m[1]!;
    if (spec.startsWith('.')) {
      const next = join(dirname(file), spec.replace(/\.js$/, '.ts'));
      for (const [k, v] of importsOf(next, seen)) found.set(k, v);
    } else {
      found.set(spec, file);
    }
  }
  return found;
}

describe('the universal entry @csq/data', () => {
  it('imports no Node module, directly or through its own files', () => {
    const imports = importsOf(join(here, 'index.ts'));
    const builtins = new Set(builtinModules);
    const offending = [...imports].filter(
      ([spec]) => spec.startsWith('node:') || builtins.has(spec),
    );
    expect(offending).toEqual([]);
    expect([...imports.keys()].sort()).toEqual(['@csq/core']);
  });

  it('the Node entry does use Node (the check above can see it)', () => {
    expect([...importsOf(join(here, 'node.ts')).keys()]).toContain('node:fs');
  });
});
