import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  type AppSpec,
  jobConfig,
  jobId,
  jobSettings,
  parseList,
  repoRoot,
  runAppCaptured,
} from '@csq/bench';
import { tempDir } from '@csq/test-utils/data-files';
import { describe, expect, it } from 'vitest';
import { CIFAR_APP } from '../src/app-spec.js';

const root = tempDir('csq-app-flags-');
const run = (args: string[]) => runAppCaptured(CIFAR_APP, args);

describe('job ids', () => {
  it('name the recipe, what a run changes, smoke and the seed', () => {
    const job = { recipe: 'cifar-n8t2', seed: 0, smoke: false, overrides: {} };
    expect(jobId(job)).toBe('cifar-n8t2-0');
    expect(jobId({ ...job, targetBits: 2 })).toBe('cifar-n8t2-0'); // the recipe's own budget
    expect(jobId({ ...job, targetBits: 3, seed: 2 })).toBe('cifar-n8t2-t3-2');
    expect(jobId({ ...job, smoke: true, overrides: { epochs: 5, backend: 'wasm' } })).toBe(
      'cifar-n8t2-e5-smoke-0',
    );
    const a = jobId({ ...job, overrides: { lr: 0.05 } });
    expect(a).toMatch(/^cifar-n8t2-x[0-9a-f]{6}-0$/);
    expect(jobId({ ...job, overrides: { lr: 0.05 } })).toBe(a);
    expect(jobId({ ...job, overrides: { lr: 0.06 } })).not.toBe(a);
  });
});

describe('settings passed to csq train', () => {
  it('smoke settings, the data spec, the seed, the baseline and the budget', () => {
    const job = { recipe: 'cifar-n6t3a4', seed: 4, targetBits: 2, smoke: true, overrides: {} };
    expect(jobSettings(job, { spec: CIFAR_APP, dataDir: '/d' })).toEqual({
      epochs: 2,
      batch: 16,
      limitTrain: 32,
      evalBatch: 50,
      data: 'cifar10:/d',
      seed: 4,
      baseline: true,
      targetBits: 2,
    });
    const cfg = jobConfig(job, { spec: CIFAR_APP, dataDir: '/d' });
    expect(cfg).toMatchObject({ recipe: 'cifar-n6t3a4', bits: 6, actBits: 4, ticket: 1 });
  });

  it('a setting this @csq/cli does not know is refused, naming it and the allowed keys', () => {
    const spec: AppSpec = { ...CIFAR_APP, smoke: () => ({ channelsLast: true }) as never };
    expect(() =>
      jobConfig(
        { recipe: 'cifar-n8t2', seed: 0, smoke: true, overrides: {} },
        { spec, dataDir: '/d' },
      ),
    ).toThrow(/unknown key "channelsLast"; allowed keys: recipe, model/);
  });

  it('parseList', () => {
    expect(parseList('seeds', '0, 1,2,1', true)).toEqual([0, 1, 2]);
    expect(parseList('target-bits', '2,2.5', false)).toEqual([2, 2.5]);
    expect(() => parseList('seeds', '0,,1', true)).toThrow(/--seeds expects non-negative integers/);
    expect(() => parseList('seeds', '1.5', true)).toThrow(/--seeds/);
  });
});

describe('command-line errors (exit 2, nothing trained)', () => {
  it('--help lists the recipes and flags', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('cifar-n8t2, cifar-n6t3a4');
    for (const f of ['--download', '--sweep', '--seeds', '--smoke', '--target-bits', '--runs'])
      expect(r.out).toContain(f);
    expect(r.out).not.toContain('--image-size'); // image folders only
  });

  it.each([
    [['--recipe', 'imagenet-r50'], /runs the recipes cifar-n8t2, cifar-n6t3a4; got "imagenet-r50"/],
    [[], /needs --recipe NAME \(one of cifar-n8t2, cifar-n6t3a4\), or --sweep/],
    [['--recipe', 'cifar-n8t2,cifar-n6t3a4'], /one run takes one --recipe.*Add --sweep/],
    [['--recipe', 'cifar-n8t2', '--seeds', '0,1'], /--seeds is for sweeps/],
    [['--sweep', '--seed', '1'], /a sweep takes --seeds/],
    [['--recipe', 'cifar-n8t2', '--target-bits', '2,3'], /one run takes one --target-bits/],
    [['--recipe', 'cifar-n8t2', '--epochs', 'ten'], /--epochs expects an integer, got "ten"/],
    [
      ['--recipe', 'cifar-n8t2', '--width-multiplier', '0'],
      /--width-multiplier expects a positive number/,
    ],
    [
      ['--recipe', 'cifar-n8t2', '--image-size', '32'],
      /Unknown option '--image-size'.*Valid flags/,
    ],
    [['--sweep', '--name', 'a/b'], /--name "a\/b" must be letters/],
    [['--recipe', 'cifar-n8t2', 'extra'], /takes no positional arguments/],
  ])('%j', async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.out).toBe('');
  });

  it('smoke numbers never go into the repository results folder', async () => {
    const results = resolve(repoRoot(), 'results');
    const r = await run(['--smoke', '--recipe', 'cifar-n8t2', '--results', results]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /smoke runs never write into .*results \(their numbers are not results\)/,
    );
  });

  it('a bad recipe setting is reported by @csq/cli validation before anything runs', async () => {
    const runs = join(root, 'runs-bad');
    const r = await run(['--recipe', 'cifar-n8t2', '--target-bits', '9', '--runs', runs]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/"targetBits" \(9\) must not exceed "bits" \(8\)/);
    expect(existsSync(runs)).toBe(false);
  });

  it('an unfinished run with other settings is not resumed', async () => {
    const runs = join(root, 'runs-mismatch');
    const dir = join(runs, 'cifar-n8t2-smoke-0');
    mkdirSync(dir, { recursive: true });
    const other = jobConfig(
      { recipe: 'cifar-n8t2', seed: 0, smoke: true, overrides: { lambda: 0.5 } },
      { spec: CIFAR_APP, dataDir: join(root, 'data') },
    );
    writeFileSync(join(dir, 'config.json'), JSON.stringify(other));
    const r = await run([
      '--smoke',
      '--recipe',
      'cifar-n8t2',
      '--data',
      join(root, 'data'),
      '--runs',
      runs,
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /holds an unfinished run with other settings \(lambda 0\.5 there, 0\.01 now\)\. Delete that directory/,
    );
  });
});
