import { resolveTrainConfig, totalEpochs } from '@csq/run-format';
import { expectClose } from '@csq/test-utils';
import { describe, expect, it } from 'vitest';
import { learningRate, planEpoch } from './schedule.js';

describe('learning rate: linear warm-up then cosine per epoch', () => {
  it('hand-computed values', () => {
    const cfg = { lr: 0.1, warmupEpochs: 5, epochs: 15 };
    expectClose(
      [0, 1, 4].map((e) => learningRate(e, cfg)),
      [0.02, 0.04, 0.1],
      1e-12,
    );
    expectClose(learningRate(5, cfg), 0.1, 1e-12); // cosine starts at the peak
    expectClose(learningRate(10, cfg), 0.05, 1e-12); // half-way through the cosine
    expectClose(learningRate(14, cfg), (0.1 * (1 + Math.cos((Math.PI * 9) / 10))) / 2, 1e-12);
    expectClose(learningRate(0, { lr: 0.05, warmupEpochs: 0, epochs: 4 }), 0.05, 1e-12);
  });
});

describe('epoch plan (spec 2)', () => {
  it('epoch form: beta = 200^(e/ticket), ticket phase from the ticket epoch', () => {
    const cfg = resolveTrainConfig({ epochs: 8, warmupEpochs: 1, lr: 0.05, csq: { ticket: 6 } });
    const plans = Array.from({ length: 8 }, (_, e) => planEpoch(e, cfg));
    expectClose(
      plans.map((p) => p.beta),
      plans.map((_, e) => 200 ** (e / 6)),
      1e-12,
    );
    expect(plans.map((p) => p.phase)).toEqual([
      'search',
      'search',
      'search',
      'search',
      'search',
      'search',
      'ticket',
      'ticket',
    ]);
    expect(totalEpochs(cfg)).toBe(8);
  });

  it('rounds form: beta restarts each round, then a final hard-mask run', () => {
    const cfg = resolveTrainConfig({
      epochs: 3,
      csq: { schedule: 'rounds', rounds: 2, rewindEpoch: 1 },
    });
    expect(totalEpochs(cfg)).toBe(9);
    const plans = Array.from({ length: 9 }, (_, e) => planEpoch(e, cfg));
    expect(plans.map((p) => p.round)).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2]);
    expectClose(
      plans.slice(0, 6).map((p) => p.beta),
      [1, Math.sqrt(200), 200, 1, Math.sqrt(200), 200],
      1e-12,
    );
    expect(plans.map((p) => p.ticket)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
      true,
      true,
      true,
    ]);
    // each round has its own lr cycle
    expect(plans[3]!.lr).toBe(plans[0]!.lr);
  });

  it('float runs have no temperature', () => {
    const p = planEpoch(2, resolveTrainConfig({ epochs: 4 }));
    expect(p).toMatchObject({ beta: 1, ticket: false, phase: 'float' });
  });
});
