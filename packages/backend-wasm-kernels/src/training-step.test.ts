import { useBackend } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import './index.js';
import { expectRelClose, rand } from '../test/compare.js';
import {
  bottleneckNet,
  cifarResNet,
  depthwiseNet,
  lossAndGrads,
  seedWeights,
  smallCnn,
} from '../test/nets.js';

afterAll(() => useBackend('cpu'));

function labels(n: number, classes = 10): tf.Tensor {
  return tf.oneHot(
    tf.tensor1d(
      Array.from({ length: n }, (_, i) => (i * 7) % classes),
      'int32',
    ),
    classes,
  );
}

// Each network is built once (on cpu) with seeded weights (see seedWeights); the same weights
// then run one training step's forward and backward pass on cpu and on wasm.
const NETS: [string, () => tf.LayersModel, number[]][] = [
  ['small CNN: conv, BN, ReLU, max-pool, avg-pool, GAP, dense', () => smallCnn(), [3, 16, 16, 3]],
  [
    'ResNet-8 with 1x1 stride-2 shortcuts and 4-bit activation quantizers (round, sign)',
    () => cifarResNet({ blocks: 1, width: 4, inputShape: [12, 12, 3], activation: 'quant' }),
    [2, 12, 12, 3],
  ],
  [
    'ResNet-8 with 2-bit PACT activation quantizers (trainable clip alpha)',
    () => cifarResNet({ blocks: 1, width: 4, inputShape: [9, 9, 3], activation: 'pact' }),
    [2, 9, 9, 3],
  ],
  [
    'ResNet-8 with ReLU6 on odd sizes',
    () => cifarResNet({ blocks: 1, width: 4, inputShape: [11, 13, 3], activation: 'relu6' }),
    [3, 11, 13, 3],
  ],
  ['ResNet-50 bottlenecks (1x1, 3x3 stride 2, 1x1)', () => bottleneckNet(), [2, 12, 12, 8]],
  [
    'MobileNet-style depthwise blocks (stride 1/2, same/valid, multiplier 1/2)',
    () => depthwiseNet(),
    [2, 25, 23, 4],
  ],
];

describe('one training step on wasm matches the cpu backend', () => {
  for (const [name, make, xShape] of NETS) {
    it(name, async () => {
      await useBackend('cpu');
      const model = make();
      seedWeights(model, 100);
      const x = rand(xShape, 11);
      const y = labels(xShape[0]!);
      const expected = lossAndGrads(model, x, y);
      await useBackend('wasm');
      const actual = lossAndGrads(model, x, y);
      expectRelClose([actual.loss], [expected.loss]);
      expect(actual.grads.length).toBe(expected.grads.length);
      for (let i = 0; i < expected.grads.length; i++) {
        expectRelClose(actual.grads[i]!, expected.grads[i]!);
      }
      tf.dispose([x, y]);
      model.dispose();
    });
  }
});

// The full float ResNet-20 (32x32x3, widths 16/32/64): about 15 s on the cpu backend, so opt-in;
// the ResNet-8 cases above are its fast smoke version.
describe.runIf(process.env.CSQ_SLOW === '1')('full ResNet-20 (CSQ_SLOW=1)', () => {
  it('one training step on wasm matches the cpu backend', async () => {
    await useBackend('cpu');
    const model = cifarResNet();
    seedWeights(model, 200);
    const x = rand([2, 32, 32, 3], 3);
    const y = labels(2);
    const expected = lossAndGrads(model, x, y);
    await useBackend('wasm');
    const actual = lossAndGrads(model, x, y);
    expectRelClose([actual.loss], [expected.loss]);
    for (let i = 0; i < expected.grads.length; i++) {
      expectRelClose(actual.grads[i]!, expected.grads[i]!);
    }
    tf.dispose([x, y]);
    model.dispose();
  }, 300_000);
});

describe('training on wasm', () => {
  it('SGD-momentum steps of a ResNet give the cpu weights, with flat memory', async () => {
    await useBackend('cpu');
    const model = cifarResNet({ blocks: 1, width: 4, inputShape: [10, 10, 3] });
    seedWeights(model, 300);
    const initial = model.getWeights().map((w) => w.clone());
    const x = rand([4, 10, 10, 3], 5);
    const y = labels(4);
    let opt = tf.train.momentum(0.1, 0.9);
    const train = (steps: number) => {
      for (let s = 0; s < steps; s++) {
        tf.tidy(() => {
          opt.minimize(
            () =>
              tf.losses.softmaxCrossEntropy(
                y,
                model.apply(x, { training: true }) as tf.Tensor,
              ) as tf.Scalar,
          );
        });
      }
      return model.trainableWeights.map((w) => w.read().dataSync() as Float32Array);
    };
    const expected = train(3);
    model.setWeights(initial);
    opt.dispose();
    opt = tf.train.momentum(0.1, 0.9);
    await useBackend('wasm');
    const actual = train(3);
    for (let i = 0; i < expected.length; i++) expectRelClose(actual[i]!, expected[i]!, 1e-3);
    // a step more leaks no tensor and no wasm buffer
    train(1);
    const backend = tf.backend() as tf.KernelBackend & { numDataIds(): number };
    const before = { tensors: tf.memory().numTensors, buffers: backend.numDataIds() };
    train(2);
    expect({ tensors: tf.memory().numTensors, buffers: backend.numDataIds() }).toEqual(before);
    opt.dispose();
    tf.dispose([x, y, ...initial]);
    model.dispose();
  });
});
