import { budgetStats, sigmoid } from '@csq/core';
import { CsqActQuant, CsqController, CsqConv2D, CsqDense } from '@csq/layers';
import { expectClose, useBackend } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BudgetRegularizer, inputActBits } from './budget-regularizer.js';

/** conv (N=4, 3x3x1x2) -> act quant 4 bits -> conv (N=4, 3x3x2x4) -> flatten -> dense (N=8). */
function model(opts: { denseCounted?: boolean } = {}) {
  const input = tf.input({ shape: [6, 6, 1] });
  let x = new CsqConv2D({
    name: 'c1',
    filters: 2,
    kernelSize: 3,
    bits: 4,
    seed: 1,
    useBias: false,
  }).apply(input);
  x = new CsqActQuant({ name: 'q1', actBits: 4 }).apply(x);
  x = new CsqConv2D({
    name: 'c2',
    filters: 4,
    kernelSize: 3,
    bits: 4,
    seed: 2,
    useBias: false,
  }).apply(x);
  x = tf.layers.flatten().apply(x);
  const out = new CsqDense({
    name: 'fc',
    units: 3,
    bits: 8,
    seed: 3,
    counted: opts.denseCounted ?? true,
  }).apply(x);
  return tf.model({ inputs: input, outputs: out as tf.SymbolicTensor });
}

function setMask(m: tf.LayersModel, name: string, values: number[]) {
  tf.tidy(() => {
    (m.getLayer(name) as CsqConv2D).maskVariable.write(tf.tensor1d(values));
  });
}

function masks(m: tf.LayersModel, name: string): number[] {
  return Array.from((m.getLayer(name) as CsqConv2D).maskVariable.read().dataSync());
}

describe('BudgetRegularizer', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('counts the counted layers and matches @csq/core budgetStats in every mode', () => {
    const m = model();
    setMask(m, 'c1', [1, 1, -1, -1]); // 2 bits
    setMask(m, 'c2', [1, -1, -1, -1]); // 1 bit
    setMask(m, 'fc', [1, 1, 1, 1, 1, -1, -1, -1]); // 5 bits
    const b4 = { minBits: 1, maxBits: 4 };
    const layers = [
      {
        name: 'c1',
        maxBits: 4,
        bits: 2,
        params: 18,
        macs: 4 * 4 * 2 * 9,
        actBits: 0,
        positions: [0, 1],
        bounds: b4,
      },
      {
        name: 'c2',
        maxBits: 4,
        bits: 1,
        params: 72,
        macs: 2 * 2 * 4 * 18,
        actBits: 4,
        positions: [0],
        bounds: b4,
      },
      {
        name: 'fc',
        maxBits: 8,
        bits: 5,
        params: 48,
        macs: 48,
        actBits: 0,
        positions: [0, 1, 2, 3, 4],
        bounds: { minBits: 1, maxBits: 8 },
      },
    ];
    // bits on disk: c1 {0,1} 7 codes -> 3 bits; c2 {0} -> 2; fc {0..4} 63 codes, 48 weights -> 6
    const storage = [3, 2, 6];
    for (const mode of ['slots', 'params', 'bops', 'storage'] as const) {
      const budget = new BudgetRegularizer(m, { mode, targetBits: 2, lambda: 0.01 });
      const want = budgetStats(layers, { mode, targetBits: 2 });
      expect(budget.stats()).toEqual(want);
      expect(want.avgBitsStorage).toBeCloseTo((18 * 3 + 72 * 2 + 48 * 6) / 138, 12);
      const report = budget.report();
      expect(report.layers).toEqual(layers.map((l, k) => ({ ...l, storageBits: storage[k] })));
      expect(report.avgBitsSlots).toBeCloseTo(8 / 3, 12);
      expect(report.avgBitsParams).toBeCloseTo((18 * 2 + 72 + 48 * 5) / 138, 12);
      expect(report.sizeBits).toBe(18 * 2 + 72 + 48 * 5);
    }
    expect(inputActBits(m.getLayer('c2') as CsqConv2D)).toBe(4);
    // spec 5 rules, overridable: an uncounted layer is left out unless `include` takes it
    const m2 = model({ denseCounted: false });
    expect(
      new BudgetRegularizer(m2, { targetBits: 2, lambda: 1 }).layers.map((l) => l.name),
    ).toEqual(['c1', 'c2']);
    const all = new BudgetRegularizer(new CsqController(m2), {
      targetBits: 2,
      lambda: 1,
      include: () => true,
    });
    expect(all.layers.map((l) => l.name)).toEqual(['c1', 'c2', 'fc']);
    expect(() => new BudgetRegularizer(m, { targetBits: 9, lambda: 1 })).toThrow(/targetBits/);
    expect(
      () => new BudgetRegularizer(m, { targetBits: 2, lambda: 1, mode: 'size' as 'slots' }),
    ).toThrow(/mode/);
  });

  it('penalty = lambda (R - R_T) sum_l w_l sum_i sigma(beta m) and is 0 in the ticket phase', () => {
    const m = model();
    const ctl = new CsqController(m);
    ctl.setBeta(2);
    const c1 = [0.5, -0.25, 0.1, -2];
    const c2 = [1, 1, 1, -1];
    const fc = [0.3, 0.3, 0.3, 0.3, -0.3, -0.3, -0.3, -0.3];
    setMask(m, 'c1', c1);
    setMask(m, 'c2', c2);
    setMask(m, 'fc', fc);
    const budget = new BudgetRegularizer(ctl, { mode: 'params', targetBits: 2, lambda: 0.1 });
    // params mode: R = (18*2 + 72*3 + 48*4) / (18*4 + 72*4 + 48*8); weights |W_l| / mean
    const r = (18 * 2 + 72 * 3 + 48 * 4) / (18 * 4 + 72 * 4 + 48 * 8);
    const rt = 2 / ((18 * 4 + 72 * 4 + 48 * 8) / 138);
    const mean = 138 / 3;
    const sig = (v: number[]) => v.reduce((a, x) => a + sigmoid(2 * x), 0);
    const want =
      0.1 * (r - rt) * ((18 / mean) * sig(c1) + (72 / mean) * sig(c2) + (48 / mean) * sig(fc));
    expect(budget.stats().coefficient).toBeCloseTo(r - rt, 12);
    expectClose(budget.penalty().dataSync()[0]!, want, 1e-5);
    ctl.setTicket(true);
    expect(budget.penalty().dataSync()[0]).toBe(0);
    expect(budget.report().phase).toBe('exact');
  });

  it('changes sign across the target and pushes mask logits the right way in a few SGD steps', () => {
    for (const [start, target, dir] of [
      [0.5, 1, -1], // all 4 bits selected, target 1: prune (masks go down)
      [-0.5, 3, 1], // no bit selected, target 3: grow (masks go up)
    ] as const) {
      const m = model();
      for (const name of ['c1', 'c2']) setMask(m, name, [start, start, start, start]);
      setMask(m, 'fc', new Array(8).fill(start));
      const budget = new BudgetRegularizer(m, { targetBits: target, lambda: 1 });
      expect(Math.sign(budget.stats().coefficient)).toBe(dir === -1 ? 1 : -1);
      const opt = tf.train.sgd(0.5);
      const before = masks(m, 'c1');
      for (let step = 0; step < 3; step++) opt.minimize(() => budget.penalty());
      const after = masks(m, 'c1');
      for (let i = 0; i < 4; i++) expect(Math.sign(after[i]! - before[i]!)).toBe(dir);
    }
  });

  it('works inside model.fit through its callback: masks shrink above the target, beta follows the schedule', async () => {
    const m = model();
    for (const name of ['c1', 'c2']) setMask(m, name, [1, 1, 1, 1]);
    setMask(m, 'fc', new Array(8).fill(1));
    const ctl = new CsqController(m);
    const budget = new BudgetRegularizer(ctl, { targetBits: 1, lambda: 2 });
    m.compile({ optimizer: tf.train.sgd(0.5), loss: 'meanSquaredError' });
    const x = tf.randomUniform([8, 6, 6, 1], 0, 1, 'float32', 1);
    const y = tf.zeros([8, 3]);
    const history = await m.fit(x, y, {
      epochs: 2,
      batchSize: 4,
      verbose: 0,
      shuffle: false,
      callbacks: [budget.callback({ beta: (e) => 1 + e, ticketEpoch: 5 })],
    });
    expect(ctl.beta).toBe(2);
    const after = masks(m, 'c1');
    expect(after.every((v) => v < 1)).toBe(true);
    // the fit loss included the (positive) penalty: it exceeds the plain MSE of the model
    const mse = (m.evaluate(x, y) as tf.Scalar).dataSync()[0]!;
    expect(history.history['loss']!.at(-1) as number).toBeGreaterThan(mse);
    expect(budget.isAttached).toBe(false);
    expect(m.getLayer('c1').losses).toHaveLength(0);
  });

  it('model.fit in the ticket phase leaves the masks alone and adds no penalty', async () => {
    const m = model();
    setMask(m, 'c1', [1, -1, 1, -1]);
    setMask(m, 'c2', [1, 1, 1, 1]); // H(0) = 0 would cut the gradient to c1
    setMask(m, 'fc', new Array(8).fill(1));
    const budget = new BudgetRegularizer(m, { targetBits: 1, lambda: 5 });
    m.compile({ optimizer: tf.train.momentum(0.1, 0.9), loss: 'meanSquaredError' });
    const before = masks(m, 'c1');
    const p0 = Array.from((m.getLayer('c1') as CsqConv2D).csqKernel.p.read().dataSync());
    await m.fit(tf.randomUniform([4, 6, 6, 1], -1, 1, 'float32', 7), tf.ones([4, 3]), {
      epochs: 2,
      batchSize: 2,
      verbose: 0,
      callbacks: [budget.callback({ ticketEpoch: 0 })],
    });
    expect(masks(m, 'c1')).toEqual(before);
    const p1 = Array.from((m.getLayer('c1') as CsqConv2D).csqKernel.p.read().dataSync());
    expect(p1).not.toEqual(p0);
  });

  it('leaks no tensors across predict, stats, report and penalty', async () => {
    const m = model();
    const budget = new BudgetRegularizer(m, { mode: 'bops', targetBits: 2, lambda: 1 });
    const x = tf.ones([1, 6, 6, 1]);
    const round = async (i: number) => {
      setMask(m, 'c1', [i, -i, 1, -1]); // a new mask value forces a recount
      tf.dispose(m.predict(x) as tf.Tensor);
      budget.stats();
      budget.report();
      await budget.refresh();
      tf.dispose(budget.penalty());
      new CsqController(m).setBeta(2 + i);
    };
    await round(0);
    const before = tf.memory().numTensors;
    for (let i = 1; i < 4; i++) await round(i);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refresh() counts asynchronously and penalty() then reuses the count', async () => {
    const m = model();
    const budget = new BudgetRegularizer(m, { targetBits: 2, lambda: 1 });
    const s = await budget.refresh();
    expect(s.ratio).toBe(1); // m = 0 counts as selected in the search phase
    setMask(m, 'c1', [-1, -1, -1, -1]);
    expect(budget.stats().ratio).toBeCloseTo((0 + 4 + 8) / 16, 12);
  });
});
