import { describe, expect, it } from 'vitest';
import { resolveTrainConfig } from './train-config.js';

describe('config validation', () => {
  it('names the key and the allowed values', () => {
    expect(() => resolveTrainConfig({ epochs: 0 })).toThrow(
      /"epochs" must be an integer >= 1, got 0/,
    );
    expect(() => resolveTrainConfig({ lr: -1 })).toThrow(/"lr" must be a positive number/);
    expect(() => resolveTrainConfig({ epochs: 4, warmupEpochs: 4 })).toThrow(/warmupEpochs/);
    // @ts-expect-error wrong mode on purpose
    expect(() => resolveTrainConfig({ csq: { budget: { mode: 'size' } } })).toThrow(
      /"slots", "params", "bops", "storage"/,
    );
    expect(() => resolveTrainConfig({ epochs: 5, csq: { ticket: 9 } })).toThrow(/csq.ticket/);
    // @ts-expect-error wrong value on purpose
    expect(() => resolveTrainConfig({ exactEval: 'sometimes' })).toThrow(/"epoch" or "end"/);
  });

  it('fills defaults, ticket two epochs before the end', () => {
    const cfg = resolveTrainConfig({ epochs: 8, csq: {} });
    expect(cfg.csq?.ticket).toBe(6);
    expect(cfg.csq?.budget).toEqual({
      mode: 'slots',
      targetBits: 2,
      lambda: 0.01,
      enforce: 'trim',
    });
    expect(cfg.momentum).toBe(0.9);
    // resolving a resolved config changes nothing
    expect(resolveTrainConfig(cfg as never)).toEqual(cfg);
  });

  it('budget.enforce and budget.layers: checked, with the allowed values named', () => {
    // @ts-expect-error wrong value on purpose
    expect(() => resolveTrainConfig({ csq: { budget: { enforce: 'cut' } } })).toThrow(
      /"csq.budget.enforce" must be "trim" or "off", got "cut"/,
    );
    const layers = { conv1: { minBits: 2 }, dense: { minBits: 1, maxBits: 8 } };
    const cfg = resolveTrainConfig({ csq: { budget: { enforce: 'off', layers } } });
    expect(cfg.csq?.budget).toMatchObject({ enforce: 'off', layers });
    expect(() =>
      resolveTrainConfig({ csq: { budget: { layers: { conv1: { minBits: -1 } } } } }),
    ).toThrow(/"csq.budget.layers.conv1.minBits" must be an integer >= 0/);
    expect(() =>
      resolveTrainConfig({ csq: { budget: { layers: { conv1: { minBits: 4, maxBits: 2 } } } } }),
    ).toThrow(/at most maxBits \(2\)/);
    expect(() =>
      // @ts-expect-error unknown key on purpose
      resolveTrainConfig({ csq: { budget: { layers: { conv1: { floor: 2 } } } } }),
    ).toThrow(/conv1.floor" must be absent \(allowed: minBits, maxBits\)/);
  });
});
