// Convert a float TensorFlow.js model you already have into a CSQ model and search its
// precision down to a bit budget with plain model.fit.
//
//   npm install @csq/layers @csq/budget @csq/core @csq/data @csq/trainer-node \
//     @tensorflow/tfjs @tensorflow/tfjs-backend-wasm
//   node convert.mjs
import { BudgetRegularizer } from '@csq/budget';
import { betaForEpoch } from '@csq/core';
import { loadData } from '@csq/data/node';
import { CsqController, quantizeModel } from '@csq/layers';
// @csq/trainer-node picks the backend and registers the wasm kernels that training conv nets
// needs (tfjs-backend-wasm alone lacks Conv2DBackpropFilter).
import { selectBackend } from '@csq/trainer-node';
import * as tf from '@tensorflow/tfjs';

const backend = await selectBackend();
console.log(`backend: ${backend.name}`);

// Some digits to train and test on (uint8 pixels -> floats in [0, 1], one-hot labels).
const data = await loadData('mnist');
async function tensors(source, count) {
  const indices = Array.from({ length: count }, (_, i) => i);
  const { images, labels } = await source.read(indices);
  const x = tf.tensor4d(
    Float32Array.from(images, (v) => v / 255),
    [count, 28, 28, 1],
  );
  return { x, y: tf.oneHot(tf.tensor1d(labels, 'int32'), 10), labels };
}
const train = await tensors(data.train, 2048);
const test = await tensors(data.test, 500);
const accuracy = (model) =>
  tf.tidy(
    () =>
      tf.mean(tf.equal(tf.argMax(model.predict(test.x), -1), tf.argMax(test.y, -1))).dataSync()[0],
  );

// 1. The model you already have: an ordinary float conv-BN-ReLU net trained with model.fit.
const float = tf.sequential({
  layers: [
    tf.layers.conv2d({
      name: 'conv1',
      inputShape: [28, 28, 1],
      filters: 8,
      kernelSize: 3,
      strides: 2,
      useBias: false,
    }),
    // momentum 0.9 (tfjs's default is 0.99): with a few hundred steps the moving statistics,
    // which inference uses, would otherwise still be far from the data's
    tf.layers.batchNormalization({ name: 'bn1', momentum: 0.9 }),
    tf.layers.reLU(),
    tf.layers.conv2d({ name: 'conv2', filters: 16, kernelSize: 3, strides: 2, useBias: false }),
    tf.layers.batchNormalization({ name: 'bn2', momentum: 0.9 }),
    tf.layers.reLU(),
    tf.layers.flatten(),
    tf.layers.dense({ name: 'dense', units: 10 }),
  ],
});
float.compile({ optimizer: tf.train.adam(0.01), loss: tf.losses.softmaxCrossEntropy });
await float.fit(train.x, train.y, { epochs: 3, batchSize: 64, verbose: 0 });
console.log(`float accuracy: ${(accuracy(float) * 100).toFixed(1)} %`);

// 2. Convert: every Conv2D / Dense becomes a CSQ layer with 8 bit planes, initialised from the
//    float weights (the exact 8-bit model computes what the float model computes, to rounding).
//    The digits start at moderate logits (+-0.5) and the masks at 1, so the bits keep training
//    and the budget prunes and grows them from the first epoch.
const csq = quantizeModel(float, { bits: 8 });
const controller = new CsqController(csq);
console.log('bits before the search:', controller.layerBits('exact'));

// 3. Search to 2 bits per layer on average: the budget regularizer's callback adds its term to
//    the loss, anneals beta per epoch, trims to the budget and freezes the bits ("ticket") at
//    epoch 6; epochs 6 to 8 then fine-tune the exact bits (one epoch is not enough to recover
//    from a trimmed bit).
const epochs = 8;
const ticketEpoch = 5;
// With SGD a mask moves by about lr x lambda x (its gradient) per step, so lambda scales with
// the length of the search: the paper's 0.01 runs for about 120,000 steps at lr 0.1; this search
// has 160 (5 epochs of 32 batches) at lr 0.05, so it takes 1. enforce: 'trim' meets the target
// at the ticket epoch (the lowest mask logits per bit saved go, usually a few; see the log line).
const budget = new BudgetRegularizer(csq, { targetBits: 2, lambda: 1, enforce: 'trim' });
csq.compile({ optimizer: tf.train.momentum(0.05, 0.9), loss: tf.losses.softmaxCrossEntropy });
await csq.fit(train.x, train.y, {
  epochs,
  batchSize: 64,
  verbose: 0,
  callbacks: [
    budget.callback({ beta: (epoch) => betaForEpoch(epoch, { ticket: ticketEpoch }), ticketEpoch }),
  ],
});

// 4. The result: per-layer bits and the accuracy of the exact (exported) model.
controller.setExact(true);
const report = budget.report('exact');
console.log('bits after the search:', controller.layerBits('exact'));
console.log(`average bits: ${report.avgBitsSlots.toFixed(2)} (target 2)`);
console.log(`exact accuracy: ${(accuracy(csq) * 100).toFixed(1)} %`);
