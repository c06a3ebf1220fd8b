/**
 * Benchmark: the extra work CSQ adds to a training step, alone: computing every layer's soft
 * kernel from its planes (spec 1) and back-propagating to p, n, m and s, for a whole network.
 * Compare it with your backend's float step time to bound the CSQ overhead there.
 *
 *   node bench/kernel-overhead.mjs            # ResNet-20, N = 8, cpu and wasm (after pnpm build)
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { buildModel, CsqController } from '../dist/index.js';

const name = process.env.BENCH_MODEL ?? 'resnet20';
const reps = Number(process.env.BENCH_STEPS ?? 5);
for (const backend of (process.env.BENCH_BACKEND ?? 'cpu,wasm').split(',')) {
  await tf.setBackend(backend);
  await tf.ready();
  const model = buildModel(name, { bits: 8, seed: 1 });
  const ctl = new CsqController(model);
  ctl.setBeta(3);
  const vars = ctl.layers.flatMap((l) =>
    [l.maskVariable, ...l.nonMaskVariables()].map((v) => v.read()),
  );
  const step = () => {
    const { value, grads } = tf.variableGrads(
      () => tf.addN(ctl.layers.map((l) => tf.sum(tf.square(l.kernelTensor())))),
      vars,
    );
    value.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
  };
  step();
  const times = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    step();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const weights = ctl.layers.reduce((a, l) => a + l.paramCount(), 0);
  console.log(
    `${name} (${ctl.layers.length} CSQ layers, ${weights} weights x 8 bits) on ${backend}: ` +
      `kernels forward + backward ${times[Math.floor(reps / 2)].toFixed(1)} ms per step (median of ${reps})`,
  );
}
