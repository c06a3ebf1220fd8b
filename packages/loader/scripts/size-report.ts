/**
 * `pnpm --filter @csq/loader size-report`: file sizes of the packed format (v1, v2, gzip -9 of
 * v1) against the entropy bound of the weight codes, for the quickstart CNN and a ResNet-20.
 * Prints the markdown table of docs/packed-format.md ("Measured sizes").
 *
 * Models (no long training run):
 * - quickstart: the float mnist-cnn (seeded initial weights; with CSQ_SIZE_TRAIN=1 first trained
 *   1 epoch on 2,000 of the embedded MNIST digits, CSQ_SIZE_DIGITS to change), converted with
 *   @csq/layers quantizeModel (N = 8, planes from the float weights), masks set to the quickstart
 *   run's outcome (conv1 2 bits, conv2 1, conv3 1, dense 2). Untrained, its batch norm and bias
 *   values are set to trained-like seeded values (trainedLikeFloats).
 * - quickstart, ternary at 1.44 bits: the same file with conv2's and conv3's codes redrawn
 *   (seeded) at the distribution the quickstart run measured (P(0) = 0.55, P(+-128) = 0.225:
 *   1.44 bits per weight).
 * - resnet20: seeded initial float weights (not trained; batch norm as above), converted at
 *   N = 8, every counted layer at 2 bits (MSB positions 0 and 1).
 */
import { gzipSync } from 'node:zlib';
import { mnistEmbeddedSet } from '@csq/data/node';
import { CsqController, mnistCnn, quantizeModel, resnet20 } from '@csq/layers';
import { rng } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs';
import { decodePackedModel } from '../src/decode.js';
import { encodePackedModel } from '../src/encode.js';
import { exportPackedModel, toExactPlainModel } from '../src/export.js';
import type { PackedWeightInput } from '../src/format.js';
import { loadPackedModel } from '../src/load.js';
import { entropyBits, symbolCounts } from '../src/rans.js';

type Row = {
  name: string;
  v1: number;
  v2: number;
  gzip: number;
  entropy: number;
  floats: number;
  manifest: number;
};

function setMasks(model: tf.LayersModel, selected: Record<string, number[]>, bits = 8) {
  for (const v of new CsqController(model).maskVariables()) {
    const layer = v.originalName.split('/')[0]!;
    const on = selected[layer] ?? [0, 1];
    v.write(
      tf.tensor(
        Array.from({ length: bits }, (_, i) => (on.includes(i) ? 3 : -3)),
        v.shape as number[],
      ),
    );
  }
}

/** Sizes of one model given the v1 and v2 files of the same weights. */
function measure(name: string, v1: Uint8Array, v2: Uint8Array): Row {
  const d = decodePackedModel(v2);
  let entropy = 0;
  let floats = 0;
  for (const w of d.weights) {
    if (w.encoding === 'float32') {
      floats += 4 * w.values.length;
      continue;
    }
    const levels = [...new Set(w.codes!)].sort((a, b) => a - b);
    const index = new Map(levels.map((l, i) => [l, i]));
    const symbols = Array.from(w.codes!, (c) => index.get(c)!);
    entropy += entropyBits(symbolCounts(symbols, levels.length)) / 8;
  }
  const manifest = new DataView(v2.buffer, v2.byteOffset).getUint32(12, true);
  return {
    name,
    v1: v1.length,
    v2: v2.length,
    gzip: gzipSync(v1, { level: 9 }).length,
    entropy,
    floats,
    manifest,
  };
}

/**
 * Batch norm and bias values as a trained network has them (seeded: gamma ~ 1 +- 0.3, beta and
 * mean ~ +-0.5, variance 0.05..2, biases ~ +-0.1) instead of the initial constants 1 and 0, which
 * any compressor squeezes to nothing and no trained model has.
 */
function trainedLikeFloats(model: tf.LayersModel, seed: number): void {
  const r = rng(seed);
  const values = model.weights.map((w) => {
    const n = (w.shape as number[]).reduce((a, b) => a * b, 1);
    const name = w.originalName;
    const gen = name.endsWith('/gamma')
      ? () => 1 + 0.6 * (r() - 0.5)
      : name.endsWith('/moving_variance')
        ? () => 0.05 + 1.95 * r()
        : /\/(beta|moving_mean)$/.test(name)
          ? () => r() - 0.5
          : name.endsWith('/bias')
            ? () => 0.2 * (r() - 0.5)
            : undefined;
    return gen
      ? tf.tensor(Float32Array.from({ length: n }, gen), w.shape as number[])
      : w.read().clone();
  });
  model.setWeights(values);
  tf.dispose(values);
}

async function quickstart(): Promise<tf.LayersModel> {
  const float = mnistCnn({ quantized: false, seed: 1 });
  if (process.env['CSQ_SIZE_TRAIN'] === '1') await train(float);
  else trainedLikeFloats(float, 5);
  const csq = quantizeModel(float, { bits: 8 });
  setMasks(csq, { conv1: [0, 1], conv2: [0], conv3: [0], dense: [0, 1] });
  return csq;
}

/** A short float training run on the embedded digits (CSQ_SIZE_TRAIN=1; minutes on a busy cpu). */
async function train(float: tf.LayersModel): Promise<void> {
  const set = mnistEmbeddedSet();
  const n = Number(process.env['CSQ_SIZE_DIGITS'] ?? 2000);
  const x = tf.tidy(() =>
    tf.tensor4d(set.images.subarray(0, n * 784), [n, 28, 28, 1], 'float32').div(255),
  );
  const y = tf.oneHot(tf.tensor1d(set.labels.subarray(0, n), 'int32'), 10);
  float.compile({
    optimizer: tf.train.adam(0.01),
    loss: 'categoricalCrossentropy',
    metrics: ['accuracy'],
  });
  const started = Date.now();
  const h = await float.fit(x, y, {
    epochs: 1,
    batchSize: 50,
    shuffle: true,
    verbose: 0,
    callbacks: {
      onBatchEnd: async (b) => {
        if (b % 10 === 0)
          console.error(`  batch ${b} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
      },
    },
  });
  console.error(
    `quickstart float training accuracy: ${(h.history['acc'] ?? h.history['accuracy'])!.map((a) => Number(a).toFixed(3)).join(', ')}`,
  );
  tf.dispose([x, y]);
}

/** The quickstart's weights with conv2 and conv3 redrawn ternary at 1.44 bits per weight. */
async function ternaryAtMeasuredEntropy(model: tf.LayersModel) {
  const { plain, weights } = await toExactPlainModel(model);
  const r = rng(12);
  const redrawn = weights.map((w): PackedWeightInput => {
    if (w.kind !== 'codes' || !/^conv[23]\//.test(w.name)) return w;
    const codes = Array.from(w.codes, () => {
      const u = r();
      return u < 0.55 ? 0 : u < 0.775 ? 128 : -128;
    });
    return { ...w, codes, positions: [0] };
  });
  const topology = plain.toJSON(null, false) as object;
  plain.dispose();
  return [1, 2].map((formatVersion) =>
    encodePackedModel(
      { topology, weights: redrawn, meta: { generator: 'csq' } },
      { formatVersion: formatVersion as 1 | 2 },
    ),
  );
}

await tf.setBackend('cpu');
const rows: Row[] = [];
const qs = await quickstart();
const [q1, q2] = [
  await exportPackedModel(qs, { formatVersion: 1 }),
  await exportPackedModel(qs, { formatVersion: 2 }),
];
const trained = process.env['CSQ_SIZE_TRAIN'] === '1' ? 'trained briefly' : 'initial weights';
rows.push(measure(`quickstart (mnist-cnn, ${trained}, converted)`, q1!, q2!));
// v1 and v2 must load to the same predictions, bit for bit
const [a, b] = [await loadPackedModel(q1!), await loadPackedModel(q2!)];
const probe = tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 3);
const same = tf.tidy(
  () =>
    (a.predict(probe) as tf.Tensor)
      .equal(b.predict(probe) as tf.Tensor)
      .all()
      .dataSync()[0] === 1,
);
if (!same) throw new Error('v1 and v2 predictions differ');
const [t1, t2] = await ternaryAtMeasuredEntropy(qs);
rows.push(measure('quickstart, conv2/conv3 ternary at 1.44 bits', t1!, t2!));
const rnFloat = resnet20({ quantized: false, seed: 1 });
trainedLikeFloats(rnFloat, 6);
const rn = quantizeModel(rnFloat, { bits: 8 });
setMasks(rn, {});
rows.push(
  measure(
    'resnet20 (2 bits per layer)',
    await exportPackedModel(rn, { formatVersion: 1 }),
    await exportPackedModel(rn, { formatVersion: 2 }),
  ),
);

const kib = (x: number) => (x / 1024).toFixed(2);
console.log(
  '| model | v1 | v2 | gzip -9 of v1 | entropy bound of the codes | float32 tensors | v2 manifest | v2 / (bound + floats) | goal: v2 <= 1.1 (bound + floats) + 1 KiB |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  const goal = 1.1 * (r.entropy + r.floats) + 1024;
  console.log(
    `| ${r.name} | ${kib(r.v1)} KiB | ${kib(r.v2)} KiB | ${kib(r.gzip)} KiB | ${kib(r.entropy)} KiB | ${kib(r.floats)} KiB | ${r.manifest} B | ${(r.v2 / (r.entropy + r.floats)).toFixed(3)} | ${r.v2 <= goal ? 'met' : 'MISSED'} (${kib(goal)} KiB) |`,
  );
}
console.log('\nv1 and v2 quickstart files load to bit-identical predictions: yes');
