import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AppResult, resultRow, runAppCaptured, type SweepRecord } from '@csq/bench';
import { tempDir, writeImageFolder } from '@csq/test-utils/data-files';
import { beforeAll, describe, expect, it } from 'vitest';
import { IMAGENET_APP } from '../src/app-spec.js';

const root = tempDir('csq-app-imagenet-smoke-');
const data = join(root, 'imagenet');
const runs = join(root, 'runs');
const results = join(root, 'results');
const smoke = [
  '--smoke',
  '--data',
  data,
  '--runs',
  runs,
  '--results',
  results,
  '--backend',
  'wasm',
];
const result = (job: string) =>
  JSON.parse(readFileSync(join(results, `${job}.json`), 'utf8')) as AppResult;
const metrics = (job: string) =>
  readFileSync(join(runs, job, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { model: string; round?: number; phase: string; beta?: number });

// Smoke runs build the networks at 1/16 of their width (--width-multiplier): a full-width CSQ
// ResNet-18/50 does not fit the wasm backend's 4 GiB.
describe('--smoke on a folder of JPEGs (32x32 crops, 1/16 width)', () => {
  beforeAll(async () => {
    // the real on-disk layout: DIR/train/CLASS/*.jpg and DIR/val/CLASS/*.jpg
    await writeImageFolder(data, { classes: ['cat', 'dog'], train: 6, val: 3 });
  });

  it('imagenet-r18: the epoch schedule, CSQ and the float baseline', async () => {
    const r = await runAppCaptured(IMAGENET_APP, ['--recipe', 'imagenet-r18', ...smoke, '--quiet']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const x = result('imagenet-r18-smoke-0');
    expect(x).toMatchObject({
      app: 'imagenet-resnet',
      model: 'resnet18',
      data: `imagefolder:${data}`,
      bits: 6,
      targetBits: 3,
      smoke: true,
      epochs: { csq: 2, float: 2, planned: 2 },
      changes: { imageSize: { run: 32 }, widthMultiplier: { run: 1 / 16 } },
    });
    // stem, 16 block convs and the classifier are counted; 1x1 shortcuts are not (spec 5)
    expect(x.layers.map((l) => l.name)).toEqual([
      'conv1',
      ...[1, 2, 3, 4].flatMap((s) =>
        [0, 1].flatMap((b) => [`layer${s}.${b}.conv1`, `layer${s}.${b}.conv2`]),
      ),
      'fc',
    ]);
    expect(x.layers.every((l) => l.maxBits === 6)).toBe(true);
    expect(x.checks.every((c) => c.ok)).toBe(true);
    expect(r.out).toContain(resultRow(x));
    expect(readFileSync(join(results, 'imagenet-resnet.md'), 'utf8')).toContain(resultRow(x));
  }, 120_000);

  it('imagenet-r50: search rounds with a beta restart, then the final hard-mask run', async () => {
    const r = await runAppCaptured(IMAGENET_APP, ['--recipe', 'imagenet-r50', ...smoke, '--quiet']);
    expect(r.code).toBe(0);
    const x = result('imagenet-r50-smoke-0');
    expect(x).toMatchObject({
      model: 'resnet50',
      bits: 8,
      actBits: 4,
      targetBits: 4,
      // 2 search rounds of 2 epochs + the final run of 2; the baseline: one cycle of 2
      epochs: { csq: 6, float: 2, planned: 6 },
      changes: { rounds: { recipe: 3, run: 2 }, rewindEpoch: { recipe: 2, run: 1 } },
    });
    const csq = metrics('imagenet-r50-smoke-0').filter((l) => l.model === 'csq');
    expect(csq.map((l) => [l.round, l.phase, l.beta])).toEqual([
      [0, 'search', 1],
      [0, 'search', 200],
      [1, 'search', 1],
      [1, 'search', 200],
      [2, 'ticket', 200],
      [2, 'ticket', 200],
    ]);
    // 50 counted layers, stem and classifier at 8 bits
    expect(x.layers).toHaveLength(50);
    expect(x.layers[0]).toMatchObject({ name: 'conv1', maxBits: 8 });
    expect(x.layers.at(-1)).toMatchObject({ name: 'fc', maxBits: 8 });
    // 4-bit activations after every ReLU of every bottleneck (spec 7: the authors skipped them)
    const model = JSON.parse(
      readFileSync(join(runs, 'imagenet-r50-smoke-0', 'model', 'model.json'), 'utf8'),
    );
    const quant = (
      model.modelTopology.config.layers as { class_name: string; name: string }[]
    ).filter((l) => l.class_name === 'CsqActQuant');
    expect(quant).toHaveLength(48);
    expect(quant.every((l) => /^layer[1-4]\.\d+\.relu[123]$/.test(l.name))).toBe(true);
    // the schedule of spec 2 as the run's own records show it, incl. a final run that keeps the
    // bits of the last search round and beta read back from the network's layers
    expect(x.checks.filter((c) => !c.ok)).toEqual([]);
    expect(x.avgBits.slots).toBeGreaterThan(0);
  }, 120_000);

  it('--sweep reuses the finished job and adds the other budget', async () => {
    const r = await runAppCaptured(IMAGENET_APP, [
      '--sweep',
      '--recipe',
      'imagenet-r18',
      '--target-bits',
      '2,3',
      '--seeds',
      '0',
      ...smoke,
      '--quiet',
    ]);
    expect(r.code).toBe(0);
    const rec = JSON.parse(
      readFileSync(join(results, 'sweep-imagenet-resnet.json'), 'utf8'),
    ) as SweepRecord;
    expect(rec.jobs.map((j) => [j.job, j.status])).toEqual([
      ['imagenet-r18-t2-smoke-0', 'done'],
      ['imagenet-r18-smoke-0', 'skipped'],
    ]);
    expect(rec.groups.map((g) => g.targetBits)).toEqual([2, 3]);
    expect(result('imagenet-r18-t2-smoke-0')).toMatchObject({ targetBits: 2, bits: 6 });
    const md = readFileSync(join(results, 'sweep-imagenet-resnet.md'), 'utf8');
    expect(md).toContain(resultRow(result('imagenet-r18-t2-smoke-0')));
    expect(md).toContain(resultRow(result('imagenet-r18-smoke-0')));
  }, 120_000);
});
