import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@csq/test-utils/data-files';
import { describe, expect, it } from 'vitest';
import { CIFAR_SPEC as CIFAR_APP } from '../test/fixtures.js';
import { jobConfig, recipeConfig } from './job.js';
import type { MachineInfo } from './machine.js';
import { type AppResult, collectResult, configChanges, resultRow } from './results.js';
import { groupResults, meanStd } from './sweep.js';

const machine: MachineInfo = {
  cpu: 'Test CPU 9000',
  cores: 2,
  memoryGiB: 24,
  gpus: [],
  os: 'linux x64',
  node: 'v20.0.0',
  backend: 'wasm',
  backendDetail: 'wasm (tfjs 4.22.0; SIMD on)',
};

describe('collectResult', () => {
  const root = tempDir('csq-app-results-');

  it('reads a run directory: accuracies, bits, epochs and times of both models, changes', () => {
    const runDir = join(root, 'run');
    mkdirSync(runDir, { recursive: true });
    const job = { recipe: 'cifar-n8t2', seed: 3, smoke: false, overrides: { epochs: 2 } };
    const cfg = jobConfig(job, { spec: CIFAR_APP, dataDir: '/data/c10' });
    writeFileSync(join(runDir, 'config.json'), JSON.stringify(cfg));
    writeFileSync(
      join(runDir, 'summary.json'),
      JSON.stringify({
        recipe: 'cifar-n8t2',
        backend: 'wasm',
        epochs: 2,
        floatAccuracy: 0.9,
        softAccuracy: 0.8,
        exactAccuracy: 0.75,
        avgBits: { slots: 2, params: 0 },
        sizeBytes: 100,
        float32Bytes: 400,
        compression: 4,
        weightCompression: null,
        layers: [{ name: 'conv1', bits: 0, params: 10, maxBits: 8 }],
        wallSeconds: 9,
        targetBits: 2,
        budget: 'slots',
        bits: 8,
        finalBeta: 200 ** (1 / 1),
      }),
    );
    const l = (model: string, epoch: number, seconds: number, extra = {}) =>
      JSON.stringify({ model, epoch, epochs: 2, phase: 'float', seconds, ...extra });
    writeFileSync(
      join(runDir, 'metrics.jsonl'),
      [
        l('float', 0, 1.5),
        l('csq', 0, 2, { phase: 'search', beta: 1, layerBits: { conv1: 3 } }),
        l('float', 1, 2.5),
        l('csq', 1, 4, { phase: 'ticket', beta: 200, layerBits: { conv1: 0 } }),
        '',
      ].join('\n'),
    );
    const r = collectResult({
      app: 'cifar10-resnet20',
      job: 'cifar-n8t2-e2-3',
      runDir,
      smoke: false,
      recipeCfg: recipeConfig('cifar-n8t2'),
      machine,
    });
    expect(r).toMatchObject({
      job: 'cifar-n8t2-e2-3',
      recipe: 'cifar-n8t2',
      seed: 3,
      data: 'cifar10:/data/c10',
      epochs: { csq: 2, float: 2, planned: 2 },
      accuracy: { float: 0.9, soft: 0.8, exact: 0.75 },
      trainSeconds: { csq: 6, float: 4 },
      compression: { model: 4, weights: null, sizeBytes: 100, float32Bytes: 400 },
      changes: {
        epochs: { recipe: 600, run: 2 },
        ticket: { recipe: 595, run: 1 },
        warmupEpochs: { recipe: 5, run: 1 },
      },
    });
    expect(Object.keys(r.changes)).toEqual(['epochs', 'ticket', 'warmupEpochs']);
    // beta_e = 200^(e/1): epoch 1 has 200, which the layers hold (finalBeta)
    expect(r.checks.every((c) => c.ok)).toBe(true);
    expect(resultRow(r).split(' | ').slice(1, 11)).toEqual([
      '2',
      '2 / 2',
      '90.00',
      '80.00',
      '75.00',
      '-15.00',
      '2.000',
      '0.000',
      '4.00x / -',
      'epochs 2, ticket 1, warmupEpochs 1',
    ]);
  });

  it('refuses an unfinished run with the way to finish it', () => {
    const runDir = join(root, 'unfinished');
    mkdirSync(runDir, { recursive: true });
    expect(() =>
      collectResult({
        app: 'a',
        job: 'j',
        runDir,
        smoke: false,
        recipeCfg: recipeConfig('cifar-n8t2'),
        machine: null,
      }),
    ).toThrow(/has no summary\.json: the run has not finished\. Run the same command again/);
  });
});

describe('configChanges', () => {
  it('lists what differs from the recipe, ignoring data, seed, backend and workers', () => {
    const base = recipeConfig('imagenet-r50');
    const run = { ...base, data: 'imagefolder:/x', seed: 4, backend: 'wasm' as const, workers: 3 };
    expect(configChanges(run, base)).toEqual({});
    expect(configChanges({ ...run, rounds: 1, lambda: 0.5 }, base)).toEqual({
      lambda: { recipe: 0.001, run: 0.5 },
      rounds: { recipe: 3, run: 1 },
    });
  });
});

describe('sweep statistics', () => {
  it('meanStd: mean and sample standard deviation', () => {
    expect(meanStd([1, 2, 3, 4])).toEqual({ mean: 2.5, std: Math.sqrt(5 / 3) });
    expect(meanStd([7])).toEqual({ mean: 7, std: 0 });
  });

  it('groupResults: one group per recipe and budget, exact - float per seed', () => {
    const r = (seed: number, target: number, float: number | null, exact: number) =>
      ({
        recipe: 'cifar-n8t2',
        seed,
        targetBits: target,
        accuracy: { float, soft: exact + 0.01, exact },
        avgBits: { slots: target, params: target - 0.5 },
        compression: { model: 32 / target, weights: 64 / target },
      }) as unknown as AppResult;
    const groups = groupResults([r(0, 2, 0.9, 0.8), r(1, 2, 0.92, 0.86), r(0, 3, null, 0.88)]);
    expect(groups).toHaveLength(2);
    const g2 = groups[0]!;
    expect(g2.seeds).toEqual([0, 1]);
    expect(g2.floatAccuracy!.mean).toBeCloseTo(0.91, 12);
    expect(g2.exactAccuracy.mean).toBeCloseTo(0.83, 12);
    // differences -0.10 and -0.06: mean -0.08, sample std 0.04 / sqrt(2)
    expect(g2.exactMinusFloat!.mean).toBeCloseTo(-0.08, 12);
    expect(g2.exactMinusFloat!.std).toBeCloseTo(0.04 / Math.SQRT2, 12);
    expect(groups[1]!.floatAccuracy).toBeNull();
    expect(groups[1]!.exactMinusFloat).toBeNull();
    expect(groups[1]!.avgBitsParams).toEqual({ mean: 2.5, std: 0 });
  });
});
