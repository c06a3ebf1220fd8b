import { expectClose, TEST_BACKENDS, uniform, useBackend } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CsqActQuant } from './csq-act-quant.js';

/** Spec 4 in plain JavaScript: clip to [0, c], then S round(|x| q / S) / q with S = max|x|. */
function actRef(x: ArrayLike<number>, bits: number, clip: number): number[] {
  const c = Array.from(x, (v) => Math.min(Math.max(v, 0), clip));
  const s = Math.max(...c);
  const q = 2 ** bits - 1;
  return c.map((v) => (s === 0 ? 0 : (s * Math.round((v * q) / s)) / q));
}

describe.each(TEST_BACKENDS)('CsqActQuant on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it('uses ReLU6 above 3 bits and rounds to 2^a - 1 levels of max|x| (spec 4)', () => {
    const layer = new CsqActQuant({ actBits: 4 });
    const x = uniform(40, -3, 9, 5);
    const y = layer.apply(tf.tensor2d(x, [4, 10])) as tf.Tensor;
    expect(layer.clip).toBe('relu6');
    expect(layer.trainableWeights).toHaveLength(0);
    expectClose(y.dataSync(), actRef(x, 4, 6), { rtol: 1e-6, atol: 1e-6 });
    expect(
      new Set(Array.from(y.dataSync(), (v) => Math.round((v * 15) / 6))).size,
    ).toBeLessThanOrEqual(16);
  });

  it('uses PACT with a trainable alpha at 3 bits or fewer, and actBits 0 is a ReLU', () => {
    const layer = new CsqActQuant({ actBits: 2, alphaInit: 1.5 });
    const x = uniform(30, -1, 3, 6);
    const y = layer.apply(tf.tensor1d(x)) as tf.Tensor;
    expect(layer.clip).toBe('pact');
    expect(layer.alphaVariable!.read().dataSync()[0]).toBe(1.5);
    expectClose(y.dataSync(), actRef(x, 2, 1.5), { rtol: 1e-6, atol: 1e-6 });
    const relu = new CsqActQuant({ actBits: 0 }).apply(tf.tensor1d(x)) as tf.Tensor;
    expectClose(
      relu.dataSync(),
      Array.from(x, (v) => Math.max(v, 0)),
      0,
    );
    expect(new CsqActQuant({ actBits: 3 }).alphaInit).toBe(10);
    expect(() => new CsqActQuant({ actBits: 17 })).toThrow(/actBits/);
  });
});

describe('CsqActQuant gradients (cpu)', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('passes the identity gradient inside the clip and dL/dalpha where x >= alpha', () => {
    const layer = new CsqActQuant({ actBits: 3, alphaInit: 1 });
    const x = tf.tensor1d([-0.5, 0.2, 0.7, 1.2, 2.5]);
    layer.apply(x);
    const alpha = layer.alphaVariable!.read() as tf.Variable;
    const g = [1, 2, 3, 4, 5];
    const f = (input: tf.Tensor) => tf.sum(tf.mul(layer.apply(input) as tf.Tensor, tf.tensor1d(g)));
    const dx = tf.grad(f)(x);
    expectClose(dx.dataSync(), [0, 2, 3, 0, 0], 0);
    const { grads } = tf.variableGrads(() => f(x) as tf.Scalar, [alpha]);
    expectClose(grads[alpha.name]!.dataSync(), [4 + 5], 1e-6);
  });
});
