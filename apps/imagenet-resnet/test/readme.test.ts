import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { documentedCommands, repoRoot, runAppCaptured } from '@csq/bench';
import { tempDir } from '@csq/test-utils/data-files';
import { describe, expect, it } from 'vitest';
import { IMAGENET_APP } from '../src/app-spec.js';

const root = tempDir('csq-app-imagenet-readme-');
const docs = ['results/README.md', 'apps/imagenet-resnet/README.md'];

describe('the commands the READMEs give for this app', () => {
  const commands = docs.flatMap((d) =>
    documentedCommands(readFileSync(join(repoRoot(), d), 'utf8'), '@csq/app-imagenet-resnet').map(
      (args) => [d, args] as const,
    ),
  );

  it('are there: both recipes, a sweep and a smoke run', () => {
    const text = commands.map(([, a]) => a.join(' '));
    for (const part of ['--recipe imagenet-r18 --data', '--recipe imagenet-r50 --data'])
      expect(text.some((t) => t.includes(part))).toBe(true);
    expect(text.some((t) => t.startsWith('--sweep'))).toBe(true);
    expect(text.some((t) => t.startsWith('--smoke'))).toBe(true);
    expect(text.some((t) => t.startsWith('--sweep') && t.includes('--queue redis://'))).toBe(true);
    expect(text.some((t) => t.startsWith('worker --queue redis://'))).toBe(true);
  });

  it('worker commands parse (their flags are checked before --help prints)', async () => {
    for (const [doc, args] of commands.filter(([, a]) => a[0] === 'worker')) {
      const r = await runAppCaptured(IMAGENET_APP, [...args, '--help']);
      expect(r.err, `${doc}: ${args.join(' ')}`).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^Usage: csq-[a-z0-9-]+ worker --queue/);
    }
  });

  it('parse, and full runs train the recipe as written (only the budget may change)', async () => {
    for (const [doc, args] of commands.filter(([, a]) => a[0] !== 'worker')) {
      const r = await runAppCaptured(IMAGENET_APP, [
        ...args,
        '--dry-run',
        '--runs',
        join(root, 'runs'),
        '--results',
        join(root, 'results'),
      ]);
      const label = `${doc}: ${args.join(' ')}`;
      expect(r.err, label).toBe('');
      expect(r.code, label).toBe(0);
      const jobs = r.out.split('\n').filter((l) => l.startsWith('  '));
      expect(jobs.length).toBeGreaterThan(0);
      if (!args.includes('--smoke')) {
        for (const j of jobs) expect(j).toMatch(/ new {2}(the recipe as written|targetBits \d+)$/);
      }
    }
  });
});
