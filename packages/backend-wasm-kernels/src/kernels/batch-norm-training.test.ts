import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import '../index.js';
import { useBackend } from '@csq/test-utils';
import { expectRelClose, rand, valuesOn } from '../../test/compare.js';
import { registerWasmTrainingKernels, useStockWasmKernels } from '../register.js';

afterAll(() => useBackend('cpu'));

const EPS = 1e-3;

function inputs(shape: number[], seed: number) {
  const ch = shape[shape.length - 1]!;
  // an offset far from 0 tests the shifted one-pass variance
  const x = tf.add(tf.mul(rand(shape, seed), 2), 7.5);
  const gamma = tf.add(rand([ch], seed + 1), 1.5);
  const beta = rand([ch], seed + 2);
  const weights = rand(shape, seed + 3); // dy: every output weighted differently
  return { x, gamma, beta, weights, axes: shape.slice(0, -1).map((_, i) => i) };
}

/** What tf.layers.batchNormalization computes in training: tf.moments, then tf.batchNorm. */
function reference(shape: number[], seed: number) {
  return () => {
    const { x, gamma, beta, weights, axes } = inputs(shape, seed);
    const { mean, variance } = tf.moments(x, axes);
    const y = tf.batchNorm(x, mean, variance, beta, gamma, EPS);
    const f = (xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const m = tf.moments(xx, axes);
      return tf.sum(tf.mul(tf.batchNorm(xx, m.mean, m.variance, b, g, EPS), weights));
    };
    const { grads } = tf.valueAndGrads(f)([x, gamma, beta]);
    return [y, mean, variance, ...grads];
  };
}

/** The two csq kernels, called directly. */
function fused(shape: number[], seed: number) {
  return () => {
    const { x, gamma, beta, weights } = inputs(shape, seed);
    const attrs = { varianceEpsilon: EPS };
    const [y, mean, variance] = tf
      .engine()
      .runKernel('CsqBatchNormTraining', { x, scale: gamma, offset: beta }, attrs) as tf.Tensor[];
    const grads = tf
      .engine()
      .runKernel(
        'CsqBatchNormTrainingGrad',
        { dy: weights, x, scale: gamma, mean: mean!, variance: variance! },
        attrs,
      ) as tf.Tensor[];
    return [y!, mean!, variance!, ...grads];
  };
}

const SHAPES: number[][] = [
  [4, 6, 6, 16], // the 4-channel SIMD path
  [3, 4, 4, 5], // 4 + 1 remainder channel
  [1, 9, 3, 3], // scalar channels only
  [7, 1], // dense batch norm, one channel
  [130, 12], // more rows than a float32 partial-sum block
  [2, 40, 40, 8], // 3,200 rows: many blocks
];

describe('CsqBatchNormTraining and its gradient match tf.moments + tf.batchNorm on cpu', () => {
  for (const [i, shape] of SHAPES.entries()) {
    it(`x [${shape}]: y, mean, variance, dx, dgamma, dbeta`, async () => {
      const expected = await valuesOn('cpu', reference(shape, 10 * i + 1));
      const actual = await valuesOn('wasm', fused(shape, 10 * i + 1));
      expect(actual.length).toBe(6);
      for (let k = 0; k < expected.length; k++) expectRelClose(actual[k]!, expected[k]!, 1e-5);
    });
  }

  it('is removed on the stock path and registered again after', async () => {
    await useBackend('wasm');
    useStockWasmKernels();
    expect(tf.getKernel('CsqBatchNormTraining', 'wasm')).toBeUndefined();
    expect(tf.getKernel('CsqBatchNormTrainingGrad', 'wasm')).toBeUndefined();
    registerWasmTrainingKernels();
    expect(tf.getKernel('CsqBatchNormTraining', 'wasm')).toBeDefined();
    expect(tf.getKernel('CsqBatchNormTrainingGrad', 'wasm')).toBeDefined();
  });
});
