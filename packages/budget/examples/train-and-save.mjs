// The @csq/budget README, runnable: build a CSQ model (or convert a float one), train it under a
// bit budget with model.fit and with a custom loop, read the per-layer bits, save, load. wasm
// backend in Node.
// Run after `pnpm build`: node packages/budget/examples/train-and-save.mjs
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BudgetRegularizer } from '@csq/budget';
import { betaForEpoch } from '@csq/core';
import { CsqController, CsqDense, quantizeModel } from '@csq/layers';
import { fileSystemIO } from '@csq/layers/node';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

await tf.setBackend('wasm');

// 1. A CSQ model trained from scratch (the authors' initialisation: 0/1 digits, masks at 0),
//    N = 6 bits, the output layer at 8 bits. Builders: buildModel('mnist-cnn' | 'resnet20' ...).
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
// ... or convert the float model you have (Dense / Conv2D / DepthwiseConv2D become CSQ layers
// initialised from its weights):
const float = tf.sequential({ layers: [tf.layers.dense({ units: 4, inputShape: [64] })] });
const converted = quantizeModel(float, { bits: 6 });
console.log('converted:', converted.layers.map((l) => l.getClassName()).join(', '));

// 2. Train with model.fit: the callback adds lambda (R - R_T) sum sigma(beta m) to the loss,
//    anneals beta per epoch and enters the ticket phase (hard, frozen masks) at epoch 3.
const budget = new BudgetRegularizer(model, { targetBits: 3, lambda: 0.05 });
const x = tf.randomNormal([256, 64], 0, 1, 'float32', 1);
const y = tf.oneHot(tf.randomUniform([256], 0, 4, 'int32', 2), 4);
model.compile({ optimizer: tf.train.momentum(0.05, 0.9), loss: tf.losses.softmaxCrossEntropy });
await model.fit(x, y, {
  epochs: 4,
  batchSize: 32,
  verbose: 0,
  callbacks: [budget.callback({ beta: (e) => betaForEpoch(e, { ticket: 3 }), ticketEpoch: 3 })],
});

// ... or a custom loop step: add budget.penalty() to the loss.
const controller = budget.controller;
const optimizer = tf.train.sgd(0.05);
optimizer.minimize(() =>
  tf.add(
    // apply() is typed for symbolic inputs too: say it returns a tensor here
    tf.losses.softmaxCrossEntropy(y, /** @type {tf.Tensor} */ (model.apply(x, { training: true }))),
    budget.penalty(),
  ),
);

// 3. Per-layer bits and the size report.
console.log('bits per layer:', controller.layerBits('exact'));
const report = budget.report('exact');
console.log(
  `avg bits ${report.avgBitsParams.toFixed(2)} (params), ${report.avgBitsSlots.toFixed(2)} (slots); ` +
    `${report.sizeBits} bits of weights; R ${report.ratio.toFixed(3)} vs target ${report.targetRatio.toFixed(3)}`,
);

// 4. Save and load (model.json + weights.bin, no tfjs-node); the loaded model computes the same.
const dir = join(mkdtempSync(join(tmpdir(), 'csq-')), 'model');
await model.save(fileSystemIO(dir));
const loaded = await tf.loadLayersModel(fileSystemIO(dir));
new CsqController(loaded).setExact(true);
controller.setExact(true);
const [a, b] = [loaded.predict(x), model.predict(x)].map((t) => /** @type {tf.Tensor} */ (t));
const same = tf.equal(a, b).all().dataSync()[0] === 1;
console.log(`saved to ${dir}; loaded model gives identical outputs: ${same}`);
if (!same) process.exit(1);
