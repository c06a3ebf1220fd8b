/**
 * Benchmark (not a test): training steps on the wasm backend (with the csq training kernels)
 * and on the cpu backend, side by side in one run, plus wasm's own Conv2DBackpropInput against
 * ours. Run: `pnpm --filter @csq/trainer-node bench:kernels [--batch 128] [--steps 3]
 * [--cpu-batch 8] [--cpu-steps 1] [--no-cpu]`.
 *
 * The cpu backend's convolutions are plain JavaScript loops: one ResNet-20 step at batch 128
 * takes about a quarter of an hour there, so cpu runs a smaller batch (same weights, no
 * warm-up) and the two are compared per image.
 */

import { replacedWasmKernel } from '@csq/backend-wasm-kernels';
import * as tf from '@tensorflow/tfjs';
import { describeBackend } from '../src/index.js';
import { cifarResNet, plainCnn } from './nets.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const batch = arg('batch', 128);
const steps = arg('steps', 3);
const cpuSteps = arg('cpu-steps', 1);
const cpuBatch = arg('cpu-batch', 8);
const withCpu = !process.argv.includes('--no-cpu');

interface Workload {
  name: string;
  model: tf.LayersModel;
  inputShape: number[];
}

interface Timing {
  batch: number;
  stepMs: number;
  imagesPerSecond: number;
}

/** Mean wall time of `n` SGD-momentum training steps at batch `b` (after `warmUp` steps). */
async function timeSteps(
  w: Workload,
  backend: string,
  b: number,
  n: number,
  warmUp: number,
): Promise<Timing> {
  await tf.setBackend(backend);
  await tf.ready();
  const x = tf.randomUniform([b, ...w.inputShape], 0, 1, 'float32', 1);
  const y = tf.oneHot(tf.randomUniform([b], 0, 10, 'int32', 2), 10);
  const initial = w.model.getWeights().map((t) => t.clone());
  const opt = tf.train.momentum(0.01, 0.9);
  const step = () =>
    tf.tidy(() => {
      const loss = opt.minimize(
        () =>
          tf.losses.softmaxCrossEntropy(
            y,
            w.model.apply(x, { training: true }) as tf.Tensor,
          ) as tf.Scalar,
        true,
      );
      loss!.dataSync();
    });
  for (let i = 0; i < warmUp; i++) step();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) step();
  const stepMs = (performance.now() - t0) / n;
  opt.dispose();
  w.model.setWeights(initial); // the other backend starts from the same weights
  tf.dispose([x, y, ...initial]);
  return { batch: b, stepMs, imagesPerSecond: (b * 1000) / stepMs };
}

function fmt(t: Timing): string {
  return `${t.stepMs.toFixed(0).padStart(7)} ms/step at batch ${String(t.batch).padStart(3)} (${t.imagesPerSecond.toPrecision(3).padStart(6)} img/s)`;
}

/** Our Conv2DBackpropInput against wasm's own, on ResNet-20 layer shapes. */
async function backpropInputComparison(): Promise<void> {
  const theirs = replacedWasmKernel('Conv2DBackpropInput');
  if (!theirs) return;
  await tf.setBackend('wasm');
  const shapes: [number, number, number, number][] = [
    [32, 16, 16, 1],
    [32, 16, 32, 2],
    [16, 32, 32, 1],
    [8, 64, 64, 1],
  ];
  const n = Math.min(batch, 32);
  console.log(
    `\nConv2DBackpropInput, 3x3 'same', batch ${n}: csq (XNNPACK conv) vs wasm's own loop`,
  );
  for (const [size, ci, co, s] of shapes) {
    const inputShape = [n, size, size, ci];
    const dy = tf.randomUniform([n, size / s, size / s, co]);
    const filter = tf.randomUniform([3, 3, ci, co]);
    const attrs = { strides: s, pad: 'same', dataFormat: 'NHWC', inputShape };
    const time = (f: () => tf.TensorInfo) => {
      const backend = tf.backend();
      backend.disposeData(f().dataId); // warm-up
      const t0 = performance.now();
      for (let i = 0; i < 3; i++) backend.disposeData(f().dataId);
      return (performance.now() - t0) / 3;
    };
    const ours = time(
      () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, attrs) as tf.Tensor,
    );
    const own = time(
      () =>
        theirs.kernelFunc({
          inputs: { dy, filter },
          backend: tf.backend(),
          attrs: attrs as unknown as tf.NamedAttrMap,
        }) as tf.TensorInfo,
    );
    console.log(
      `  x [${inputShape}] -> ${co} ch, stride ${s}: csq ${ours.toFixed(1)} ms, ` +
        `wasm's own ${own.toFixed(1)} ms, ${(own / ours).toFixed(1)}x faster`,
    );
    tf.dispose([dy, filter]);
  }
}

async function main(): Promise<void> {
  await tf.setBackend('wasm');
  console.log(`backend: ${(await describeBackend()).text}`);
  console.log(
    `training step (SGD momentum, softmax cross-entropy, BN in training mode): wasm ${steps} ` +
      `timed steps at batch ${batch}` +
      (withCpu ? `; cpu ${cpuSteps} at batch ${cpuBatch} (compared per image)` : '') +
      '\n',
  );
  const workloads: Workload[] = [
    { name: 'float ResNet-20, 32x32x3', model: cifarResNet(), inputShape: [32, 32, 3] },
    { name: 'plain CNN (MNIST), 28x28x1', model: plainCnn(), inputShape: [28, 28, 1] },
  ];
  for (const w of workloads) {
    const wasm = await timeSteps(w, 'wasm', batch, steps, 1);
    let line = `${w.name.padEnd(27)} wasm ${fmt(wasm)}`;
    if (withCpu) {
      const cpu = await timeSteps(w, 'cpu', cpuBatch, cpuSteps, 0);
      const speedup = wasm.imagesPerSecond / cpu.imagesPerSecond;
      line += ` | cpu ${fmt(cpu)} | wasm/cpu ${speedup.toFixed(1)}x img/s`;
    }
    console.log(line);
  }
  await backpropInputComparison();
}

await main();
