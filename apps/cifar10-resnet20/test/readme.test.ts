import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { documentedCommands, repoRoot, runAppCaptured } from '@csq/bench';
import { tempDir } from '@csq/test-utils/data-files';
import { describe, expect, it } from 'vitest';
import { CIFAR_APP } from '../src/app-spec.js';

const root = tempDir('csq-app-cifar-readme-');
const docs = ['results/README.md', 'apps/cifar10-resnet20/README.md'];

describe('the commands the READMEs give for this app', () => {
  const commands = docs.flatMap((d) =>
    documentedCommands(readFileSync(join(repoRoot(), d), 'utf8'), '@csq/app-cifar10-resnet20').map(
      (args) => [d, args] as const,
    ),
  );

  it('are there: both recipes, a sweep and a smoke run', () => {
    const text = commands.map(([, a]) => a.join(' '));
    expect(text.some((t) => t.includes('--recipe cifar-n8t2 --data data/cifar10 --download'))).toBe(
      true,
    );
    expect(text.some((t) => t.includes('--recipe cifar-n6t3a4'))).toBe(true);
    expect(text.some((t) => t.startsWith('--sweep'))).toBe(true);
    expect(text.some((t) => t.startsWith('--smoke'))).toBe(true);
    expect(text.some((t) => t.startsWith('--sweep') && t.includes('--queue redis://'))).toBe(true);
    expect(text.some((t) => t.startsWith('worker --queue redis://'))).toBe(true);
  });

  it('worker commands parse (their flags are checked before --help prints)', async () => {
    for (const [doc, args] of commands.filter(([, a]) => a[0] === 'worker')) {
      const r = await runAppCaptured(CIFAR_APP, [...args, '--help']);
      expect(r.err, `${doc}: ${args.join(' ')}`).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^Usage: csq-[a-z0-9-]+ worker --queue/);
    }
  });

  it('parse, and full runs train the recipe as written (only the budget may change)', async () => {
    for (const [doc, args] of commands.filter(([, a]) => a[0] !== 'worker')) {
      const r = await runAppCaptured(CIFAR_APP, [
        ...args,
        '--dry-run',
        '--runs',
        join(root, 'runs'),
        '--results',
        join(root, 'results'),
      ]);
      expect(r.err, `${doc}: ${args.join(' ')}`).toBe('');
      expect(r.code).toBe(0);
      const jobs = r.out.split('\n').filter((l) => l.startsWith('  '));
      expect(jobs.length).toBeGreaterThan(0);
      if (!args.includes('--smoke')) {
        for (const j of jobs) expect(j).toMatch(/ new {2}(the recipe as written|targetBits \d+)$/);
      }
    }
  });
});
