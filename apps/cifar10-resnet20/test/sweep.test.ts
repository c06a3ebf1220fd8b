import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AppResult, meanStd, resultRow, runAppCaptured, type SweepRecord } from '@csq/bench';
import { tempDir, writeCifar10Dataset } from '@csq/test-utils/data-files';
import { describe, expect, it } from 'vitest';
import { CIFAR_APP } from '../src/app-spec.js';

const root = tempDir('csq-app-cifar-sweep-');
const data = join(root, 'cifar10');
writeCifar10Dataset(data, { perBatch: 8, test: 20 });
const runs = join(root, 'runs');
const results = join(root, 'results');
// cifar-n6t3a4 (N = 6, 4-bit activations) at 2 and 3 (its own) target bits, seeds 0 and 1
const args = [
  '--sweep',
  '--smoke',
  '--recipe',
  'cifar-n6t3a4',
  '--target-bits',
  '2,3',
  '--seeds',
  '0,1',
  '--name',
  'smoke-sweep',
  '--data',
  data,
  '--runs',
  runs,
  '--results',
  results,
  '--backend',
  'wasm',
];
const JOBS = [
  'cifar-n6t3a4-t2-smoke-0',
  'cifar-n6t3a4-t2-smoke-1',
  'cifar-n6t3a4-smoke-0',
  'cifar-n6t3a4-smoke-1',
];
const record = () =>
  JSON.parse(readFileSync(join(results, 'smoke-sweep.json'), 'utf8')) as SweepRecord;
const result = (job: string) =>
  JSON.parse(readFileSync(join(results, `${job}.json`), 'utf8')) as AppResult;

describe('--sweep --smoke: budgets x seeds, one after another, resumable', () => {
  it('Ctrl-C in the second job stops the sweep (exit 130) with the first job recorded', async () => {
    let seenSecond = false;
    let sent = false;
    const r = await runAppCaptured(CIFAR_APP, args, {
      onOut: (t) => {
        if (t.includes(`starting ${JOBS[1]}`)) seenSecond = true;
        if (seenSecond && !sent && /epoch 1\/2/.test(t)) {
          sent = true;
          process.emit('SIGINT');
        }
      },
    });
    expect(sent).toBe(true);
    expect(r.code).toBe(130);
    expect(r.err).toMatch(/stopped; run the same command again to continue/);
    expect(record().jobs.map((j) => [j.job, j.status])).toEqual([
      [JOBS[0], 'done'],
      [JOBS[1], 'stopped'],
      [JOBS[2], 'pending'],
      [JOBS[3], 'pending'],
    ]);
    const md = readFileSync(join(results, 'smoke-sweep.md'), 'utf8');
    expect(md).toContain('SMOKE RUN');
    expect(md).toContain(resultRow(result(JOBS[0]!)));
    expect(md).toContain(`- ${JOBS[1]}: stopped`);
  }, 120_000);

  it('the same command skips the finished job, resumes the stopped one and runs the rest', async () => {
    const first = readFileSync(join(results, `${JOBS[0]}.json`), 'utf8');
    const r = await runAppCaptured(CIFAR_APP, [...args, '--quiet']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`${JOBS[0]} is finished .*; skipped`));
    expect(r.out).toContain(`resuming ${JOBS[1]}`);
    expect(readFileSync(join(results, `${JOBS[0]}.json`), 'utf8')).toBe(first);

    const rec = record();
    expect(rec.jobs.map((j) => [j.job, j.status])).toEqual([
      [JOBS[0], 'skipped'],
      [JOBS[1], 'done'],
      [JOBS[2], 'done'],
      [JOBS[3], 'done'],
    ]);
    const all = JOBS.map(result);
    for (const x of all) {
      expect(x.epochs).toEqual({ csq: 2, float: 2, planned: 2 });
      expect(x).toMatchObject({ bits: 6, actBits: 4, smoke: true });
      expect(x.checks.every((c) => c.ok)).toBe(true);
    }
    expect(all.map((x) => [x.targetBits, x.seed])).toEqual([
      [2, 0],
      [2, 1],
      [3, 0],
      [3, 1],
    ]);
    // the combined table: one group per budget, means over the seeds of the result files
    expect(rec.groups.map((g) => [g.recipe, g.targetBits, g.seeds])).toEqual([
      ['cifar-n6t3a4', 2, [0, 1]],
      ['cifar-n6t3a4', 3, [0, 1]],
    ]);
    for (const [i, g] of rec.groups.entries()) {
      const pair = all.slice(2 * i, 2 * i + 2);
      expect(g.exactAccuracy).toEqual(meanStd(pair.map((x) => x.accuracy.exact)));
      expect(g.floatAccuracy).toEqual(meanStd(pair.map((x) => x.accuracy.float as number)));
      expect(g.avgBitsParams).toEqual(meanStd(pair.map((x) => x.avgBits.params)));
    }
    const md = readFileSync(join(results, 'smoke-sweep.md'), 'utf8');
    for (const x of all) expect(md).toContain(resultRow(x));
    const g = rec.groups[0]!;
    expect(md).toContain(
      `| cifar-n6t3a4 | 2 | 0, 1 | ${(100 * g.floatAccuracy!.mean).toFixed(2)} ± ${(100 * g.floatAccuracy!.std).toFixed(2)} |`,
    );
    expect(md).not.toContain('Not finished');
    // --dry-run now lists every job as finished
    const dry = await runAppCaptured(CIFAR_APP, [...args, '--dry-run']);
    expect(dry.out.split('\n').filter((l) => l.startsWith('  '))).toEqual(
      JOBS.map((j) => expect.stringMatching(new RegExp(`^  ${j}  finished  `))),
    );
  }, 180_000);
});
