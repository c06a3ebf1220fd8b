/**
 * Benchmark (not a test): csq's own wasm kernels with and without their worker pool, on the
 * threaded build, same process, the two alternating every iteration (so a change in the
 * machine's load hits both alike). Prints each kernel's median wall time both ways and
 * `poolSpeedup` (calling thread only / split), per kernel.
 *
 *   node packages/trainer-node/bench/pool.mjs [--threads 2] [--iters 15]
 *
 * Shapes: ResNet-20 b128's filter gradients (one per stage) and batch norms (first stage),
 * and mnist-like convolutions (1 input channel; 16 -> 32 channels at 14x14).
 */
import { parseArgs } from 'node:util';
import { configureKernelPool, kernelPoolState } from '@csq/backend-wasm-kernels';
import { enableWasmThreads } from '@csq/backend-wasm-kernels/node';
import * as tf from '@tensorflow/tfjs';
import { median } from './lib.mjs';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    iters: { type: 'string', default: '15' },
  },
});
const setup = enableWasmThreads({ threads: Number(values.threads) });
await tf.setBackend('wasm');
const ready = await setup.ready;
console.log(
  `wasm threads ${ready.threads}${ready.threaded ? '' : ` (single-thread: ${ready.reason})`}`,
);

const rand = (shape) => tf.randomUniform(shape, -1, 1, 'float32', 7);

function filterGrad(x, filters, stride) {
  const xs = rand(x);
  const c = x[3];
  const dy = rand(
    tf.conv2d(xs, tf.zeros([3, 3, c, filters]), stride, 'same').shape, // only the shape
  );
  return {
    name: `Conv2DBackpropFilter x [${x}] -> ${filters} s${stride}`,
    run: () =>
      tf
        .engine()
        .runKernel(
          'Conv2DBackpropFilter',
          { x: xs, dy },
          { strides: stride, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, c, filters] },
        ),
  };
}

function batchNorm(x) {
  const xs = rand(x);
  const c = x[3];
  const mean = rand([c]);
  const variance = tf.add(rand([c]), 2);
  const scale = rand([c]);
  const dy = rand(x);
  return [
    {
      name: `FusedBatchNorm x [${x}]`,
      run: () => tf.batchNorm(xs, mean, variance, scale, scale, 1e-3),
    },
    {
      name: `CsqFusedBatchNormGrad x [${x}]`,
      run: () =>
        tf
          .engine()
          .runKernel(
            'CsqFusedBatchNormGrad',
            { x: xs, dy, mean, variance, scale },
            { varianceEpsilon: 1e-3 },
          ),
    },
    {
      name: `CsqMulScaled [${x}]`,
      run: () => tf.engine().runKernel('CsqMulScaled', { a: xs, b: dy }, { scale: 2 }),
    },
  ];
}

function inputGrad(x, filters) {
  const w = rand([3, 3, x[3], filters]);
  const dy = rand(tf.conv2d(tf.zeros(x), w, 2, 'same').shape);
  return {
    name: `Conv2DBackpropInput s2 x [${x}] -> ${filters} (XNNPACK + phase_scatter)`,
    run: () =>
      tf
        .engine()
        .runKernel(
          'Conv2DBackpropInput',
          { dy, filter: w },
          { strides: 2, pad: 'same', dataFormat: 'NHWC', inputShape: x },
        ),
  };
}

const cases = [
  filterGrad([128, 32, 32, 16], 16, 1),
  filterGrad([128, 16, 16, 32], 32, 1),
  filterGrad([128, 8, 8, 64], 64, 1),
  filterGrad([128, 28, 28, 1], 16, 1),
  filterGrad([128, 14, 14, 16], 32, 1),
  ...batchNorm([128, 32, 32, 16]),
  inputGrad([128, 32, 32, 16], 32),
];

const modes = { pool: null, nopool: 1 };
const time = (c, mode) => {
  configureKernelPool({ threads: modes[mode] });
  const t0 = performance.now();
  const out = c.run();
  const ms = performance.now() - t0;
  tf.dispose(out);
  return ms;
};
// warm-up: starts the pool's workers and lets them get ready
for (const c of cases) for (const m of Object.keys(modes)) time(c, m);
await new Promise((r) => setTimeout(r, 200));
for (const c of cases) for (const m of Object.keys(modes)) time(c, m);
const iters = Number(values.iters);
console.log(`median of ${iters} alternating iterations (ms):`);
console.log(`${'kernel'.padEnd(72)} ${'pool'.padStart(8)} ${'nopool'.padStart(8)}  poolSpeedup`);
for (const c of cases) {
  const t = { pool: [], nopool: [] };
  for (let i = 0; i < iters; i++) {
    for (const m of i % 2 ? ['nopool', 'pool'] : ['pool', 'nopool']) t[m].push(time(c, m));
  }
  const [p, n] = [median(t.pool), median(t.nopool)];
  console.log(
    `${c.name.padEnd(72)} ${p.toFixed(2).padStart(8)} ${n.toFixed(2).padStart(8)}  ${(n / p).toFixed(3)}`,
  );
}
const pool = kernelPoolState();
console.log(
  `csq kernel pool: ${pool ? `${pool.workers} worker(s), ${pool.workerParts} parts run on them` : 'none'}`,
);
