/**
 * Issue 15.1 on real digits: train an ordinary conv-BN-ReLU tf.sequential net with model.fit,
 * convert it with quantizeModel, search its precision to 2 bits with model.fit and the budget
 * callback (enforce: 'trim'), and check the budget is met and the exact model keeps the float
 * model's accuracy. The suite runs a small version; CSQ_SLOW=1 runs a larger one.
 */
import { betaForEpoch } from '@csq/core';
import { loadMnistEmbedded, normalize } from '@csq/data/node';
import { CsqController, quantizeModel } from '@csq/layers';
import { useBackend } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BudgetRegularizer } from './budget-regularizer.js';
import type { BudgetTrimReport } from './trim-to-budget.js';

const SLOW = process.env['CSQ_SLOW'] === '1';
// The suite's version is small enough for the cpu backend on a busy machine (conv backprop
// there is plain JavaScript): 14x14 digits (an average pooling layer first), one conv block.
const SIZE = SLOW
  ? { train: 4000, test: 2000, floatEpochs: 4, searchEpochs: 6, ticket: 4 }
  : { train: 1024, test: 500, floatEpochs: 3, searchEpochs: 4, ticket: 3 };

async function digits(split: 'train' | 'test', n: number) {
  const data = loadMnistEmbedded();
  const source = data[split];
  const { images, labels } = await source.read(Array.from({ length: n }, (_, i) => i));
  const x = tf.tensor4d(normalize(images, data.mean, data.std), [n, 28, 28, 1]);
  return { x, y: tf.oneHot(tf.tensor1d(labels, 'int32'), 10), labels };
}

/** What a tfjs user writes: conv-BN-ReLU blocks, max pooling, a dense classifier. */
function userNet(): tf.Sequential {
  const init = (seed: number) => tf.initializers.glorotUniform({ seed });
  const block = (name: string, filters: number, first: boolean): tf.layers.Layer[] => [
    tf.layers.conv2d({
      name,
      ...(first && SLOW ? { inputShape: [28, 28, 1] } : {}),
      filters,
      kernelSize: 3,
      padding: 'same',
      useBias: false,
      kernelInitializer: init(filters),
    }),
    tf.layers.batchNormalization({ name: `${name}_bn`, momentum: 0.9 }),
    tf.layers.reLU(),
    tf.layers.maxPooling2d({ poolSize: 2 }),
  ];
  return tf.sequential({
    layers: [
      ...(SLOW
        ? [...block('conv1', 8, true), ...block('conv2', 16, false)]
        : [
            tf.layers.averagePooling2d({ inputShape: [28, 28, 1], poolSize: 2 }),
            ...block('conv1', 8, false),
          ]),
      tf.layers.flatten(),
      tf.layers.dense({ name: 'dense', units: 10, kernelInitializer: init(3) }),
    ],
  });
}

function accuracy(model: tf.LayersModel, x: tf.Tensor, labels: Int32Array): number {
  const pred = tf.tidy(() => (model.predict(x) as tf.Tensor).argMax(-1).dataSync());
  let ok = 0;
  for (let i = 0; i < labels.length; i++) if (pred[i] === labels[i]) ok++;
  return (100 * ok) / labels.length;
}

describe('convert a trained float net and search it to 2 bits (real MNIST digits)', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('moves bits from the start, meets the budget and keeps the float accuracy', {
    timeout: 900_000,
  }, async () => {
    const t0 = Date.now();
    const train = await digits('train', SIZE.train);
    const test = await digits('test', SIZE.test);
    const float = userNet();
    float.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
    await float.fit(train.x, train.y, {
      epochs: SIZE.floatEpochs,
      batchSize: 64,
      shuffle: false,
      verbose: 0,
    });
    const floatAcc = accuracy(float, test.x, test.labels);
    console.info(`float trained in ${Date.now() - t0} ms: ${floatAcc}`);

    const q = quantizeModel(float, { bits: 8 });
    const budget = new BudgetRegularizer(q, {
      mode: 'params',
      targetBits: 2,
      lambda: 0.05,
      enforce: 'trim',
    });
    const ctl = new CsqController(q);
    const bitsPerEpoch: number[] = [];
    const warnings: string[] = [];
    let trim: BudgetTrimReport | undefined;
    q.compile({ optimizer: tf.train.adam(0.002), loss: 'categoricalCrossentropy' });
    await q.fit(train.x, train.y, {
      epochs: SIZE.searchEpochs,
      batchSize: 64,
      shuffle: false,
      verbose: 0,
      callbacks: [
        budget.callback({
          beta: (e) => betaForEpoch(e, { ticket: SIZE.ticket }),
          ticketEpoch: SIZE.ticket,
          onTrim: (r) => {
            trim = r;
          },
          onWarning: (w) => warnings.push(w),
        }),
        {
          onEpochEnd: async () => {
            bitsPerEpoch.push(budget.stats('exact').reachedBits);
            console.info(
              `epoch at ${Date.now() - t0} ms: ${bitsPerEpoch.at(-1)} ${JSON.stringify(ctl.layerBits('exact'))}`,
            );
          },
        },
      ],
    });
    ctl.setExact(true);
    const exactAcc = accuracy(q, test.x, test.labels);
    const report = budget.report('exact');
    console.info(
      `float ${floatAcc.toFixed(1)} %, exact ${exactAcc.toFixed(1)} %; bits per epoch ` +
        `${bitsPerEpoch.map((b) => b.toFixed(2)).join(' ')}; before the trim ` +
        `${trim?.reachedBefore.toFixed(3)}, after ${report.reachedBits.toFixed(3)}; layers ` +
        `${report.layers.map((l) => `${l.name} ${l.bits}`).join(', ')}`,
    );
    // bits moved during the search (the first epoch already), no stuck-search warning
    expect(bitsPerEpoch[0]).toBeLessThan(8);
    expect(warnings).toEqual([]);
    // the search alone came within 0.25 bits of the target; the trim met it exactly
    expect(trim).toBeDefined();
    expect(trim!.reachedBefore).toBeLessThanOrEqual(2.25);
    expect(report.reachedBits).toBeLessThanOrEqual(2);
    expect(report.layers.every((l) => l.bits >= 1)).toBe(true);
    // the exact 2-bit model keeps the float model's accuracy within 2 points
    expect(floatAcc).toBeGreaterThan(90);
    expect(exactAcc).toBeGreaterThanOrEqual(floatAcc - 2);
  });
});
