/**
 * The README flow of examples/train-and-save.mjs on the wasm backend, with assertions: build,
 * train with model.fit + the budget callback and with a custom loop, read bits, save, load.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { betaForEpoch } from '@csq/core';
import { CsqController, CsqDense } from '@csq/layers';
import { fileSystemIO } from '@csq/layers/node';
import { useBackend } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BudgetRegularizer } from './budget-regularizer.js';

const root = mkdtempSync(join(tmpdir(), 'csq-budget-readme-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('README flow on wasm', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('trains under a budget with model.fit and a custom loop, then saves and loads', async () => {
    const model = tf.sequential({
      layers: [
        new CsqDense({
          name: 'hidden',
          units: 32,
          bits: 6,
          activation: 'relu',
          inputShape: [64],
          seed: 1,
        }),
        new CsqDense({ name: 'out', units: 4, bits: 8, seed: 2 }),
      ],
    });
    const budget = new BudgetRegularizer(model, { targetBits: 3, lambda: 0.05 });
    expect(budget.stats().avgBitsSlots).toBe(7);
    const x = tf.randomNormal([256, 64], 0, 1, 'float32', 1);
    const y = tf.oneHot(tf.randomUniform([256], 0, 4, 'int32', 2), 4);
    model.compile({ optimizer: tf.train.momentum(0.05, 0.9), loss: tf.losses.softmaxCrossEntropy });
    const betas: number[] = [];
    await model.fit(x, y, {
      epochs: 4,
      batchSize: 32,
      verbose: 0,
      callbacks: [
        budget.callback({ beta: (e) => betaForEpoch(e, { ticket: 3 }), ticketEpoch: 3 }),
        new tf.CustomCallback({ onEpochEnd: async () => void betas.push(budget.controller.beta) }),
      ],
    });
    expect(betas.map((b) => Math.round(b * 1000) / 1000)).toEqual([1, 5.848, 34.2, 200]);
    expect(budget.controller.ticket).toBe(true);
    const bits = budget.controller.layerBits('exact');
    expect(bits['hidden']).toBeLessThan(6); // the budget pruned bits
    expect(bits['out']).toBeLessThan(8);
    // a custom-loop step in the ticket phase: the masks stay, the penalty is 0
    const masks = budget.controller.maskVariables().map((m) => Array.from(m.read().dataSync()));
    tf.train
      .sgd(0.05)
      .minimize(() =>
        tf.add(
          tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor),
          budget.penalty(),
        ),
      );
    expect(budget.controller.maskVariables().map((m) => Array.from(m.read().dataSync()))).toEqual(
      masks,
    );
    const report = budget.report('exact');
    expect(report.layers.map((l) => l.bits)).toEqual([bits['hidden'], bits['out']]);
    expect(report.sizeBits).toBe(64 * 32 * bits['hidden']! + 32 * 4 * bits['out']!);
    const dir = join(root, 'model');
    await model.save(fileSystemIO(dir));
    const loaded = await tf.loadLayersModel(fileSystemIO(dir));
    new CsqController(loaded).setExact(true);
    budget.controller.setExact(true);
    expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(
      Array.from((model.predict(x) as tf.Tensor).dataSync()),
    );
    expect(new CsqController(loaded).layerBits()).toEqual(bits);
  });
});
