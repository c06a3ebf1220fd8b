/**
 * Budget enforcement (trimToBudget, the callback's enforce: 'trim'), per-layer bounds in the
 * regularizer, the stuck-search warning, and the callback mixed with other tfjs callbacks.
 */
import { digitGram, kernelDamage, planTrim } from '@csq/core';
import { CsqController, CsqConv2D, CsqDense } from '@csq/layers';
import { useBackend } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { SEARCH_SETTLED_BITS, stuckSearch } from './budget-callback.js';
import { BudgetRegularizer } from './budget-regularizer.js';
import { type BudgetTrimReport, formatTrimReport } from './trim-core.js';
import { trimToBudget } from './trim-to-budget.js';

/** conv (N=4) -> conv (N=4) -> flatten -> dense (N=8): 16 bit slots, masks all at `m0`. */
function model(m0 = 1) {
  const input = tf.input({ shape: [6, 6, 1] });
  let x = new CsqConv2D({ name: 'c1', filters: 2, kernelSize: 3, bits: 4, seed: 1 }).apply(input);
  x = tf.layers.reLU().apply(x);
  x = new CsqConv2D({ name: 'c2', filters: 4, kernelSize: 3, bits: 4, seed: 2 }).apply(x);
  x = tf.layers.flatten().apply(x);
  const out = new CsqDense({ name: 'fc', units: 3, bits: 8, seed: 3 }).apply(x);
  const m = tf.model({ inputs: input, outputs: out as tf.SymbolicTensor });
  for (const name of ['c1', 'c2', 'fc']) {
    const layer = m.getLayer(name) as CsqConv2D;
    setMask(m, name, new Array(layer.bits).fill(m0));
  }
  return m;
}

function setMask(m: tf.LayersModel, name: string, values: number[]) {
  tf.tidy(() => {
    (m.getLayer(name) as CsqConv2D).maskVariable.write(tf.tensor1d(values));
  });
}

function masks(m: tf.LayersModel, name: string): number[] {
  return Array.from((m.getLayer(name) as CsqConv2D).maskVariable.read().dataSync());
}

const x = () => tf.randomUniform([8, 6, 6, 1], 0, 1, 'float32', 1);
const y = () => tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3);

async function fit(m: tf.LayersModel, callbacks: unknown[], epochs = 2) {
  m.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
  return m.fit(x(), y(), {
    epochs,
    batchSize: 4,
    verbose: 0,
    shuffle: false,
    callbacks: callbacks as tf.CustomCallback[],
  });
}

describe('budget enforcement and bounds', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it.each([
    ['slots', 1.5],
    ['params', 1.5],
    ['bops', 1.5],
    ['storage', 2.5],
  ] as const)(
    '%s: a search that overshoots meets the target after trimToBudget; bounds hold',
    async (mode, target) => {
      const m = model();
      const budget = new BudgetRegularizer(m, {
        mode,
        targetBits: target,
        lambda: 1e-4, // far too weak: the search overshoots
        layers: { fc: { minBits: 2, maxBits: 6 } },
      });
      await fit(m, [budget.callback({ onWarning: () => {} })]);
      const before = budget.stats('exact');
      // the kernels before the trim, and the plan the lowest logits alone would make
      const layersBefore = budget.layers.map((l, k) => ({
        name: l.name,
        maxBits: l.bits,
        params: l.paramCount(),
        macs: l.macs()!,
        actBits: 8,
        bounds: budget.bounds[k]!,
        logits: budget.maskLogits()[k]!,
        gram: digitGram(l.exactDigits!(), l.bits),
      }));
      const byLogit = planTrim(
        layersBefore.map(({ gram: _, ...l }) => l),
        { mode, targetBits: target },
      );
      expect(before.reachedBits).toBeGreaterThan(target);
      const report = trimToBudget(budget);
      const after = budget.stats('exact');
      expect(report.reachedBefore).toBeCloseTo(before.reachedBits, 12);
      expect(report.reachedAfter).toBeCloseTo(after.reachedBits, 12);
      expect(after.reachedBits).toBeLessThanOrEqual(target + 1e-9);
      expect(report.met).toBe(true);
      // fc above its ceiling lost its two lowest logits first, then the budget trims in order
      expect(report.trimmed.filter((t) => t.reason === 'maxBits')).toHaveLength(2);
      expect(report.trimmed.slice(0, 2).every((t) => t.layer === 'fc')).toBe(true);
      const budgetLogits = report.trimmed.filter((t) => t.reason === 'budget').map((t) => t.logit);
      expect(budgetLogits.length).toBeGreaterThan(0);
      // the cut that damages the kernels least (@csq/core kernelDamage, per bit saved): the
      // damage, weighted by each layer's share of the budget, is at most that of the lowest-
      // logit plan over the same positions
      const kept = (logits: ArrayLike<number>) =>
        Array.from(logits).flatMap((v, i) => (v > 0 ? [i] : []));
      const damage = (logits: Float32Array[]) =>
        layersBefore.reduce((sum, l, k) => {
          const d = kernelDamage(l.gram, l.maxBits, kept(l.logits), kept(logits[k]!));
          return sum + l.params * d;
        }, 0);
      const trimmed = budget.maskLogits();
      if (mode !== 'storage') {
        expect(byLogit.after.reachedBits).toBeCloseTo(after.reachedBits, 12);
        expect(damage(trimmed)).toBeLessThanOrEqual(damage(byLogit.logits) + 1e-9);
      }
      // the trimmed positions are off in the model, and every layer is within its bounds
      for (const t of report.trimmed) expect(masks(m, t.layer)[t.position]).toBeLessThan(0);
      const bits = budget.controller.layerBits('exact');
      expect(bits['fc']).toBeGreaterThanOrEqual(2);
      expect(bits['fc']).toBeLessThanOrEqual(6);
      expect(bits['c1']).toBeGreaterThanOrEqual(1);
      expect(bits['c2']).toBeGreaterThanOrEqual(1);
      expect(budget.report('exact').layers.map((l) => l.bits)).toEqual([
        bits['c1'],
        bits['c2'],
        bits['fc'],
      ]);
      expect(formatTrimReport(report)).toMatch(
        new RegExp(`target ${target} bits, reached ${before.reachedBits.toFixed(3)} -> `),
      );
      // a controller (or model) with an explicit target works too, and a met budget trims nothing
      expect(trimToBudget(budget.controller, { mode, targetBits: target }).trimmed).toEqual([]);
      expect(() => trimToBudget(m)).toThrow(/needs targetBits/);
    },
  );

  it("the callback trims at the ticket epoch with enforce: 'trim', then freezes the masks", async () => {
    const m = model();
    const budget = new BudgetRegularizer(m, { targetBits: 2, lambda: 1e-4, enforce: 'trim' });
    const reports: BudgetTrimReport[] = [];
    await fit(
      m,
      [budget.callback({ ticketEpoch: 1, onTrim: (r) => reports.push(r), onWarning: () => {} })],
      3,
    );
    expect(reports).toHaveLength(1);
    expect(reports[0]!.reachedBefore).toBeGreaterThan(2);
    expect(budget.controller.ticket).toBe(true);
    expect(budget.stats('exact').reachedBits).toBeLessThanOrEqual(2);
    // enforce 'off' (the default) leaves the overshoot, reported by the stats
    const m2 = model();
    const off = new BudgetRegularizer(m2, { targetBits: 2, lambda: 1e-4 });
    await fit(m2, [
      off.callback({ ticketEpoch: 1, onTrim: () => expect.fail(), onWarning: () => {} }),
    ]);
    expect(off.stats('exact').reachedBits).toBeGreaterThan(2);
    // but the floors hold with enforce 'off' too: a layer at 0 bits gets its best bit back
    const m3 = model();
    setMask(m3, 'c1', [-0.5, -0.2, -3, -1]);
    const floors = new BudgetRegularizer(m3, { targetBits: 2, lambda: 1e-4 });
    const raised: BudgetTrimReport[] = [];
    await fit(m3, [
      floors.callback({ ticketEpoch: 0, onTrim: (r) => raised.push(r), onWarning: () => {} }),
    ]);
    expect(raised).toHaveLength(1);
    expect(raised[0]!.raised).toEqual([
      { layer: 'c1', position: 1, logit: expect.closeTo(-0.2, 5), reason: 'minBits' },
    ]);
    expect(raised[0]!.trimmed).toEqual([]);
    expect(floors.controller.layerBits('exact')['c1']).toBe(1);
    expect(
      () => new BudgetRegularizer(m2, { targetBits: 2, lambda: 1, enforce: 'on' as 'off' }),
    ).toThrow(/"trim" or "off"/);
  });

  it("bounds change each layer's coefficient: no push below a floor or above a ceiling", () => {
    const m = model();
    setMask(m, 'c1', [1, -1, -1, -1]); // 1 bit: at the default floor
    // slots: 1 + 4 + 8 of 16, N = 16 / 3 per layer; target 5: R_T = 15/16, grow by -2/16
    const grow = new BudgetRegularizer(m, { targetBits: 5, lambda: 1 });
    expect(Array.from(grow.layerCoefficients())).toEqual([-2 / 16, 0, 0]); // c2, fc at N
    // target 1: R_T = 3/16, prune by 10/16; c1 stays at its floor
    const prune = new BudgetRegularizer(m, { targetBits: 1, lambda: 1 });
    expect(Array.from(prune.layerCoefficients())).toEqual([0, 10 / 16, 10 / 16]);
    // outside the bounds: pushed back whatever the global sign
    const out = new BudgetRegularizer(m, {
      targetBits: 5,
      lambda: 1,
      layers: { c1: { minBits: 3 }, c2: { maxBits: 2 } },
    });
    expect(Array.from(out.layerCoefficients())).toEqual([-2 / 4, 2 / 4, 0]);
    // the penalty's gradient reaches no mask of a layer with coefficient 0
    const grads = tf.variableGrads(
      () => prune.penalty(),
      [
        (m.getLayer('c1') as CsqConv2D).maskVariable.read() as tf.Variable,
        (m.getLayer('c2') as CsqConv2D).maskVariable.read() as tf.Variable,
      ],
    );
    const gc1 = Object.values(grads.grads)[0]!.dataSync();
    const gc2 = Object.values(grads.grads)[1]!.dataSync();
    expect(Array.from(gc1).every((v) => v === 0)).toBe(true);
    expect(Array.from(gc2).every((v) => v > 0)).toBe(true);
    // floors above the target, unknown names and bad bounds are typed errors
    expect(
      () =>
        new BudgetRegularizer(m, {
          targetBits: 1,
          lambda: 1,
          layers: { c1: { minBits: 4 }, c2: { minBits: 4 } },
        }),
    ).toThrow(/floors \(minBits\) alone need/);
    expect(() => new BudgetRegularizer(m, { mode: 'storage', targetBits: 1.5, lambda: 1 })).toThrow(
      /CSQ|floors/,
    );
    expect(
      () => new BudgetRegularizer(m, { targetBits: 2, lambda: 1, layers: { conv9: {} } }),
    ).toThrow(/"conv9".*c1, c2, fc/);
    expect(
      () => new BudgetRegularizer(m, { targetBits: 2, lambda: 1, layers: { c1: { maxBits: 5 } } }),
    ).toThrow(/0\.\.4/);
  });

  it('warns when an epoch above the target moves no bit (masks at +6), not when bits move', async () => {
    expect(stuckSearch([Float32Array.of(6, 6)], [Float32Array.of(5.99, 5.995)])).toEqual({
      progress: expect.closeTo(0.01, 5),
      smallest: expect.closeTo(5.99, 5),
    });
    expect(stuckSearch([Float32Array.of(1, 6)], [Float32Array.of(0.5, 6)])).toBeUndefined();
    expect(stuckSearch([Float32Array.of(0.1, 6)], [Float32Array.of(-0.1, 6)])).toBeUndefined();
    const warnings: string[] = [];
    const stuck = model(6);
    const budget = new BudgetRegularizer(stuck, { targetBits: 2, lambda: 0.01 });
    await fit(stuck, [budget.callback({ onWarning: (w) => warnings.push(w) })]);
    expect(warnings).toHaveLength(2);
    // slots: 16 of 16 selected, N = 16 / 3 per layer
    expect(warnings[0]).toMatch(/epoch 1 moved no bit while 5\.333 bits .* above the target 2/);
    expect(warnings[0]).toMatch(/maskLogit/);
    // the same frozen masks within SEARCH_SETTLED_BITS (0.25) of the target: settled, no warning
    const near: string[] = [];
    const settled = model(6);
    const close = new BudgetRegularizer(settled, { targetBits: 5.2, lambda: 0.01 });
    await fit(settled, [close.callback({ onWarning: (w) => near.push(w) })]);
    expect(close.stats().reachedBits - 5.2).toBeLessThanOrEqual(SEARCH_SETTLED_BITS);
    expect(close.stats().reachedBits).toBeGreaterThan(5.2);
    expect(near).toEqual([]);
    const moving = model(1);
    const ok = new BudgetRegularizer(moving, { targetBits: 2, lambda: 20 });
    const none: string[] = [];
    await fit(moving, [ok.callback({ onWarning: (w) => none.push(w) })]);
    expect(none.join('\n')).toBe('');
  });
});

describe('the budget callback next to other tfjs callbacks, in both orders', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  class Counter extends tf.Callback {
    constructor(private readonly log: number[]) {
      super();
    }
    override async onEpochEnd(epoch: number) {
      this.log.push(epoch);
    }
  }
  const forms: Record<string, (log: number[]) => unknown> = {
    'a plain { onEpochEnd } object': (log) => ({
      onEpochEnd: async (e: number) => void log.push(e),
    }),
    'a tf.CustomCallback': (log) =>
      new tf.CustomCallback({ onEpochEnd: async (e) => void log.push(e) }),
    'a tf.Callback subclass': (log) => new Counter(log),
  };
  for (const [form, make] of Object.entries(forms)) {
    for (const first of ['budget', 'other'] as const) {
      it(`${form}, ${first === 'budget' ? 'after' : 'before'} the budget callback`, async () => {
        const m = model();
        const budget = new BudgetRegularizer(new CsqController(m), { targetBits: 1, lambda: 2 });
        const log: number[] = [];
        m.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
        // written as users write it: model.fit is looked up before budget.callback() runs
        const history = await m.fit(x(), y(), {
          epochs: 2,
          batchSize: 4,
          verbose: 0,
          callbacks: (first === 'budget'
            ? [budget.callback({ beta: (e) => 1 + e, onWarning: () => {} }), make(log)]
            : [
                make(log),
                budget.callback({ beta: (e) => 1 + e, onWarning: () => {} }),
              ]) as tf.CustomCallback[],
        });
        expect(log).toEqual([0, 1]);
        expect(budget.controller.beta).toBe(2);
        expect(masks(m, 'c1').every((v) => v < 1)).toBe(true); // the penalty was in the loss
        expect(history.history['loss']).toHaveLength(2);
        expect(budget.isAttached).toBe(false);
      });
    }
  }

  it('works alone, as the only callback, and on a model the budget does not know', async () => {
    const m = model();
    const budget = new BudgetRegularizer(m, { targetBits: 1, lambda: 2 });
    await fit(m, [budget.callback({ onWarning: () => {} })]);
    expect(masks(m, 'c1').every((v) => v < 1)).toBe(true);
    m.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
    await m.fit(x(), y(), {
      epochs: 1,
      verbose: 0,
      callbacks: budget.callback({ onWarning: () => {} }),
    });
    // a budget made from a controller-like object without a model: plain-first lists still work
    const m2 = model();
    const ctl = new CsqController(m2);
    const bare = Object.assign(Object.create(Object.getPrototypeOf(ctl)), ctl, {
      model: undefined,
    });
    const b2 = new BudgetRegularizer(bare as CsqController, { targetBits: 1, lambda: 2 });
    const log: number[] = [];
    await fit(m2, [
      { onEpochEnd: async (e: number) => void log.push(e) },
      b2.callback({ onWarning: () => {} }),
    ]);
    expect(log).toEqual([0, 1]);
    expect(masks(m2, 'c1').every((v) => v < 1)).toBe(true);
  });
});
