import { describe, expect, it } from 'vitest';
import {
  configDifference,
  type RunConfigInput,
  runConfigFromTrain,
  TRAINING_KEYS,
  toTrainConfig,
  unsafeKeys,
  validateRunConfig,
} from './run-config.js';
import { defaultTicket, resolveTrainConfig } from './train-config.js';

const quick: RunConfigInput = {
  model: 'mnist-cnn',
  data: 'mnist',
  bits: 8,
  actBits: 0,
  targetBits: 2,
  budget: 'slots',
  lambda: 0.05,
  epochs: 8,
  ticket: 6,
  batch: 128,
  lr: 0.05,
  momentum: 0.9,
  weightDecay: 5e-4,
  warmupEpochs: 1,
  schedule: 'epoch',
  finalTemp: 200,
  augment: { cropPad: 0, flip: false },
  exactEval: 'epoch',
};

describe('config.json', () => {
  it('one default-ticket rule: two epochs before the end, never before epoch 1', () => {
    expect([1, 2, 3, 8, 600].map(defaultTicket)).toEqual([1, 1, 1, 6, 598]);
    const noTicket = validateRunConfig({ ...quick, ticket: undefined });
    expect(resolveTrainConfig(toTrainConfig(noTicket, 'csq')).csq?.ticket).toBe(6);
  });

  it('maps onto the trainer config and back without loss', () => {
    const run = validateRunConfig(quick);
    const train = resolveTrainConfig(toTrainConfig(run, 'csq'));
    expect(train).toMatchObject({ epochs: 8, batchSize: 128, evalBatchSize: 500 });
    expect(train.csq?.budget).toEqual({
      mode: 'slots',
      targetBits: 2,
      lambda: 0.05,
      enforce: 'trim',
    });
    const back = runConfigFromTrain(train, {
      model: 'mnist-cnn',
      data: 'mnist',
      bits: 8,
      actBits: 0,
    });
    // a config without enforceBudget trims (the default); the trainer's config says so
    expect(back.enforceBudget).toBe('trim');
    expect(configDifference(run, back, ['s0', 'enforceBudget'])).toBeUndefined();
    expect(resolveTrainConfig(toTrainConfig(back, 'csq'))).toEqual(train);
    expect(resolveTrainConfig(toTrainConfig(run, 'float')).csq).toBeUndefined();
  });

  it('names every problem: unknown keys, bad values, missing keys csq train needs', () => {
    expect(() => validateRunConfig({ ...quick, learningRate: 1 }, 'c.json')).toThrow(
      /c\.json: unknown key "learningRate"; allowed keys: recipe, model, data/,
    );
    expect(() => validateRunConfig({ ...quick, model: 'vgg' })).toThrow(
      /"model" must be one of "mnist-cnn", "resnet20", "resnet18", "resnet50"/,
    );
    const { model: _m, data: _d, ...rest } = quick;
    expect(() => validateRunConfig(rest, 'f', { require: TRAINING_KEYS })).toThrow(
      /"model": required.*\n.*"data": required/,
    );
    expect(() => validateRunConfig({ ...quick, targetBits: 9 })).toThrow(/must not exceed "bits"/);
  });

  it('enforceBudget and budgetLayers map onto csq.budget.enforce / layers', () => {
    const run = validateRunConfig({
      ...quick,
      enforceBudget: 'off',
      budgetLayers: { conv1: { minBits: 2 } },
    });
    const train = resolveTrainConfig(toTrainConfig(run, 'csq'));
    expect(train.csq?.budget).toMatchObject({ enforce: 'off', layers: { conv1: { minBits: 2 } } });
    const back = runConfigFromTrain(train, { model: 'mnist-cnn', data: 'mnist', bits: 8 });
    expect(back).toMatchObject({ enforceBudget: 'off', budgetLayers: { conv1: { minBits: 2 } } });
    expect(() => validateRunConfig({ ...quick, enforceBudget: 'cut' })).toThrow(
      /"enforceBudget" must be one of "trim", "off"/,
    );
    expect(() => validateRunConfig({ ...quick, budgetLayers: { conv1: { floor: 1 } } })).toThrow(
      /unknown key "floor"/,
    );
  });

  it('configDifference names the first differing (nested) key', () => {
    expect(configDifference({ a: 1, b: { c: 2 } }, { a: 1, b: { c: 3 } })).toBe(
      'b.c = 2, but now b.c = 3',
    );
    expect(configDifference({ a: 1, x: 'p' }, { a: 1, x: 'q' }, ['x'])).toBeUndefined();
  });
});

describe('keys that name prototype machinery', () => {
  it('"__proto__", "constructor", "prototype" (also in augment) are unknown keys, nothing applied', () => {
    for (const text of [
      '{"__proto__": {"lr": 5}}',
      '{"constructor": {"lr": 5}}',
      '{"prototype": 1}',
      '{"augment": {"__proto__": {"flip": false}}}',
    ]) {
      const raw = JSON.parse(text);
      expect(unsafeKeys(raw)).toHaveLength(1);
      expect(() => validateRunConfig(raw, 'f.json')).toThrow(
        /f\.json: unknown key "(augment\.)?(__proto__|constructor|prototype)".*nothing was applied/,
      );
    }
    expect(unsafeKeys({ lr: 1, augment: { flip: true } })).toEqual([]);
  });
});
