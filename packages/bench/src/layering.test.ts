import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = dirname(fileURLToPath(import.meta.url));
const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });

describe('the coupling to the training API', () => {
  it('only train-job.ts imports @csq/cli, @csq/trainer, @csq/trainer-node or @csq/layers', () => {
    const importers = files(src)
      .filter((f) => !f.endsWith('.test.ts'))
      .filter((f) =>
        /from '@csq\/(cli|trainer|trainer-node|layers|run-format)['/]/.test(
          readFileSync(f, 'utf8'),
        ),
      )
      .map((f) => relative(src, f));
    expect(importers).toEqual(['train-job.ts']);
  });
});
