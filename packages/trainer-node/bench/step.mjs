/**
 * Benchmark (not a test): one training step of a float ResNet-20 and of a CSQ ResNet-20 (N = 8)
 * at batch 128, side by side in one run on the chosen backend, with the loop's own step
 * (@csq/trainer createTrainStep: forward, cross-entropy + budget term, gradients, SGD momentum
 * with weight decay). Prints both, images per second and the ratio; the last line reads
 * `ratio <csq/float>`.
 *
 *   pnpm bench:step                                   # from the repo root (builds first)
 *   node packages/trainer-node/bench/step.mjs --backend wasm --batch 128 --steps 5
 */
import { parseArgs } from 'node:util';
import { BudgetRegularizer } from '@csq/budget';
import { buildModel, CsqController } from '@csq/layers';
import { createTrainStep, SgdMomentum } from '@csq/trainer';
import * as tf from '@tensorflow/tfjs';
import { describeBackend, selectBackend } from '../dist/index.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: process.env.CSQ_BACKEND ?? 'auto' },
    model: { type: 'string', default: 'resnet20' },
    batch: { type: 'string', default: '128' },
    steps: { type: 'string', default: '5' },
    bits: { type: 'string', default: '8' },
  },
});
const batch = Number(values.batch);
const steps = Number(values.steps);
const bits = Number(values.bits);

const backend = await selectBackend({ backend: values.backend });
console.log(`backend: ${(await describeBackend()).text}`);

function bench(quantized) {
  const model = buildModel(values.model, { quantized, bits, seed: 1 });
  const controller = new CsqController(model);
  const budget = quantized
    ? new BudgetRegularizer(controller, { targetBits: 2, lambda: 0.01 })
    : undefined;
  controller.setBeta(1);
  const optimizer = new SgdMomentum(0.9, 5e-4);
  const step = createTrainStep(model, { optimizer, budget });
  const vars = model.trainableWeights.map((w) => w.read());
  const [h, w, c] = model.inputs[0].shape.slice(1);
  const classes = model.outputs[0].shape[1];
  const x = tf.randomUniform([batch, h, w, c], -1, 1, 'float32', 3);
  const labels = tf.randomUniform([batch], 0, classes, 'int32', 4);
  return async () => {
    const t0 = performance.now();
    await step(x, labels, { lr: 0.01, vars, withPenalty: quantized });
    return performance.now() - t0;
  };
}

const runs = { float: bench(false), csq: bench(true) };
const times = { float: [], csq: [] };
await runs.float();
await runs.csq(); // warm-up: kernel set-up, first allocations
for (let s = 0; s < steps; s++) {
  for (const k of s % 2 === 0 ? ['float', 'csq'] : ['csq', 'float']) times[k].push(await runs[k]());
}
const median = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
const f = median(times.float);
const q = median(times.csq);
const ips = (ms) => ((batch * 1000) / ms).toFixed(1);
console.log(
  `${values.model}, batch ${batch}, ${backend.name}, median of ${steps} steps (alternating):`,
);
console.log(`float step  ${f.toFixed(0)} ms  (${ips(f)} images/s)`);
console.log(
  `csq step    ${q.toFixed(0)} ms  (${ips(q)} images/s, N = ${bits}, soft weights + budget term)`,
);
console.log(`ratio ${(q / f).toFixed(3)}`);
