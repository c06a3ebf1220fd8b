// Measures wasm heap growth over the first training step (the heap only grows, so the size after
// minus the size before is the step's peak) next to estimateTrainingMemory's estimate.
// Run: cd packages/trainer-node && node --import tsx bench/measure-memory.ts mnist-cnn 64
import { arraySource, takeSource } from '@csq/data';
import { buildModel } from '@csq/layers';
import * as tf from '@tensorflow/tfjs';
import '../src/index.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend, train } from '../src/index.js';
import { estimateTrainingMemory } from '../src/memory.js';
import { fileRunStore } from '../src/run-store.js';

const [name = 'mnist-cnn', batchText = '64', bitsText = '8', widthText = '1'] =
  process.argv.slice(2);
const batch = Number(batchText);
await selectBackend({ backend: 'wasm' });
const heap = () =>
  (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength;
const mnist = name === 'mnist-cnn';
const [h, w, c] = mnist ? [28, 28, 1] : [32, 32, 3];
const model = buildModel(name as 'mnist-cnn', {
  quantized: true,
  bits: Number(bitsText),
  actBits: 0,
  seed: 1,
  numClasses: 10,
  inputShape: [h, w, c],
  ...(mnist ? {} : { widthMultiplier: Number(widthText) }),
});
const est = estimateTrainingMemory(model, batch);
const n = batch;
const images = new Uint8Array(n * h * w * c).map((_, i) => (i * 37) % 256);
const labels = new Int32Array(n).map((_, i) => i % 10);
const split = arraySource({
  images,
  labels,
  count: n,
  height: h,
  width: w,
  channels: c,
  numClasses: 10,
});
const before = heap();
await train({
  model,
  data: {
    train: split,
    test: takeSource(split, 1),
    mean: Array(c).fill(0.5),
    std: Array(c).fill(0.25),
  },
  config: {
    epochs: 1,
    batchSize: batch,
    evalBatchSize: batch,
    exactEval: 'end',
    csq: { ticket: 1 },
  },
  store: fileRunStore(mkdtempSync(join(tmpdir(), 'csq-mem-'))),
  log: () => {},
});
const after = heap();
const mib = (b: number) => (b / 1024 ** 2).toFixed(0);
console.log(
  `${name} N${bitsText} width ${widthText} batch ${batch}: heap ${mib(before)} -> ${mib(after)} MiB (growth ${mib(after - before)} MiB, total ${mib(after)}); ` +
    `estimate ${mib(est.bytes)} MiB (trainable ${est.trainable}, activations/sample ${est.activationsPerSample}); ratio total/estimate ${(after / est.bytes).toFixed(2)}`,
);
