/**
 * @csq/run-format sits at the bottom of the graph with no TensorFlow.js (issue 10): everything
 * it loads, followed through relative imports and into `@csq/core/base`, must import no
 * `@tensorflow/*` package and no other csq entry.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importsOf, REPO } from './scan.js';

/** Source files of the csq entries a tfjs-free package may use. */
const TFJS_FREE_ENTRIES: Record<string, string> = {
  '@csq/core/base': join(REPO, 'packages/core/src/base.ts'),
};

/** Every module reached from `entry`, and each import that leaves the tfjs-free set. */
function reach(entry: string): { files: string[]; outside: string[] } {
  const seen = new Set<string>();
  const outside: string[] = [];
  const todo = [entry];
  while (todo.length) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
        if (existsSync(target)) todo.push(target);
        else outside.push(`${file}: ${spec} (not found)`);
      } else if (TFJS_FREE_ENTRIES[spec]) todo.push(TFJS_FREE_ENTRIES[spec]);
      else if (spec.startsWith('@tensorflow/') || spec.startsWith('@csq/'))
        outside.push(`${file.slice(REPO.length + 1)} imports ${spec}`);
    }
  }
  return { files: [...seen], outside };
}

describe('packages without TensorFlow.js', () => {
  it('@csq/run-format loads no tfjs (through @csq/core/base only)', () => {
    const { files, outside } = reach(join(REPO, 'packages/run-format/src/index.ts'));
    expect(outside).toEqual([]);
    expect(files.some((f) => f.endsWith('core/src/base.ts'))).toBe(true);
  });

  it('the check itself sees tfjs behind @csq/core', () => {
    const { outside } = reach(join(REPO, 'packages/core/src/index.ts'));
    expect(outside.some((o) => o.includes('@tensorflow/'))).toBe(true);
  });
});
