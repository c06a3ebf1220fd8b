// Train a mixed-precision CNN from scratch on the MNIST digits that ship inside @csq/data.
//
//   npm install @csq/trainer-node @csq/layers @csq/data @tensorflow/tfjs @tensorflow/tfjs-backend-wasm
//   node train.mjs
//
// Importing @csq/trainer-node is all the setup there is: it picks the fastest TensorFlow.js
// backend installed (tfjs-node-gpu, WebGPU, tfjs-node, then wasm with csq's own training
// kernels, which this import registers, then cpu) and says which one it took.
import { loadData } from '@csq/data/node';
import { buildModel } from '@csq/layers';
import { trainNode } from '@csq/trainer-node';

// 8000 training and 2000 test digits (28x28 grey), embedded in the package: no download.
const data = await loadData('mnist');

// The schedule here is cut short so that the example finishes in a minute or two on a laptop
// CPU. The quickstart settings (about 99 % exact accuracy at 2 bits) are:
//   epochs: 8, batchSize: 128, lr: 0.05, warmupEpochs: 1, limitTrain: 0 (all 8000 digits),
//   csq: { ticket: 6, budget: { mode: 'slots', targetBits: 2, lambda: 0.05 } }
const result = await trainNode({
  // A function, so the model is built after trainNode has chosen the backend.
  model: () => buildModel('mnist-cnn', { bits: 8, seed: 1 }),
  data,
  config: {
    epochs: 4,
    warmupEpochs: 1,
    batchSize: 64,
    lr: 0.05,
    limitTrain: 4096, // train on the first 4096 digits only
    csq: {
      ticket: 3, // from epoch 3 (0-based) on, the selected bits are frozen ("the ticket")
      budget: { mode: 'slots', targetBits: 2, lambda: 0.05 }, // aim at 2 bits per weight
    },
  },
  // The run directory: config.json, metrics.jsonl, checkpoint/, model/, summary.json. The csq
  // command line reads it (`csq info runs/from-scratch`, `csq export`, `csq report`).
  out: 'runs/from-scratch',
  callbacks: {
    onEpochEnd: (line) =>
      console.log(
        `epoch ${line.epoch + 1}: loss ${line.loss.toFixed(3)}, ` +
          `average bits ${(line.avgBitsSlots ?? 0).toFixed(2)}`,
      ),
  },
});

// result.model is the trained tf.LayersModel; result.report the per-layer bits.
console.log(`backend: ${result.backend.name}`);
console.log(`soft accuracy: ${(result.softAccuracy * 100).toFixed(1)} %`);
console.log(`exact accuracy: ${(result.exactAccuracy * 100).toFixed(1)} %`);
console.log(`average bits: ${result.report.avgBitsSlots.toFixed(2)}`);
for (const layer of result.report.layers) {
  console.log(`  ${layer.name}: ${layer.bits} of ${layer.maxBits} bits, ${layer.params} weights`);
}
