import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'csq-readme-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

it('the root README\'s "Using csq from code" example runs as written (shortened)', async () => {
  const readme = readFileSync(join(here, '..', '..', '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Using csq from code'));
  const code = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  expect(code, 'the README section has a js block').toBeTruthy();
  // the same program with a short schedule and a temporary run directory
  const program = code!
    .replace('epochs: 8,', 'epochs: 2, limitTrain: 256,')
    .replace('ticket: 6,', 'ticket: 1,')
    .replace("out: 'runs/my-run'", `out: ${JSON.stringify(join(out, 'run'))}, log: () => {}`)
    .replace(/console\.log\((.*)\);/, 'globalThis.__readmeResult = [$1];');
  expect(program).toContain('limitTrain: 256');
  const file = join(here, `readme-example.gen.${process.pid}.mjs`);
  writeFileSync(file, program);
  try {
    await import(file);
  } finally {
    rmSync(file, { force: true });
  }
  const [exact, layers] = (
    globalThis as { __readmeResult?: [number, { name: string; bits: number }[]] }
  ).__readmeResult!;
  expect(exact).toBeGreaterThan(0);
  expect(layers.map((l) => l.name)).toEqual(['conv1', 'conv2', 'conv3', 'dense']);
  expect(
    readFileSync(join(out, 'run', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n'),
  ).toHaveLength(2);
}, 240_000);
