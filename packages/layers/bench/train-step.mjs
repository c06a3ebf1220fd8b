/**
 * Benchmark: cost of one CSQ training step relative to the float network's, measured side by
 * side in one process (custom loop: forward, CE loss, backward, SGD update).
 *
 *   pnpm --filter @csq/layers bench            # ResNet-20, batch 32, cpu backend
 *   BENCH_MODEL=mnist-cnn BENCH_BACKEND=wasm BENCH_BATCH=64 pnpm --filter @csq/layers bench
 *
 * Prints the ratio csq / float (the target is <= 1.10 for ResNet-20). Conv training on wasm needs
 * the Conv2DBackpropFilter kernel that @csq/backend-wasm-kernels registers (this bench does not
 * import it; use cpu here, or `pnpm bench:step` from the root, which runs wasm with csq's
 * kernels and the loop's own step).
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { buildModel, CsqController } from '../dist/index.js';

const name = process.env.BENCH_MODEL ?? 'resnet20';
const backend = process.env.BENCH_BACKEND ?? 'cpu';
const batch = Number(process.env.BENCH_BATCH ?? 32);
const steps = Number(process.env.BENCH_STEPS ?? 4);

await tf.setBackend(backend);
await tf.ready();

function trainer(model) {
  const opt = tf.train.momentum(0.05, 0.9);
  const [h, w, c] = model.inputs[0].shape.slice(1);
  const classes = model.outputs[0].shape[1];
  const x = tf.randomUniform([batch, h, w, c], 0, 1, 'float32', 1);
  const y = tf.oneHot(tf.randomUniform([batch], 0, classes, 'int32', 2), classes);
  return () => {
    const loss = opt.minimize(
      () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true })),
      true,
    );
    loss.dataSync();
    loss.dispose();
  };
}

const float = buildModel(name, { quantized: false, seed: 1 });
const csq = buildModel(name, { bits: 8, seed: 1 });
new CsqController(csq).setBeta(1);
const runs = { float: trainer(float), csq: trainer(csq) };
const times = { float: [], csq: [] };
for (const k of ['float', 'csq']) runs[k](); // warm-up
for (let s = 0; s < steps; s++) {
  for (const k of s % 2 === 0 ? ['float', 'csq'] : ['csq', 'float']) {
    const t0 = performance.now();
    runs[k]();
    times[k].push(performance.now() - t0);
  }
}
const median = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
const f = median(times.float);
const q = median(times.csq);
console.log(
  `${name} batch ${batch} on ${backend}: float ${f.toFixed(0)} ms/step, csq ${q.toFixed(0)} ms/step, ` +
    `ratio csq/float ${(q / f).toFixed(3)} (median of ${steps})`,
);
