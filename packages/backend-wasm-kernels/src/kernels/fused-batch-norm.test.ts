import { useBackend } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import '../index.js';
import { expectRelClose, rand, valuesOn } from '../../test/compare.js';
import { claimGradient, isCsqGradient, originalGradient } from '../gradients/claim.js';
import { fusedBatchNormGradConfig } from '../gradients/fused-batch-norm-grad.js';

afterAll(() => useBackend('cpu'));

// tf.layers.batchNormalization in training: batch statistics by tf.moments, then tf.batchNorm;
// the loss weights every output differently so that every gradient term matters.
function trainingBatchNorm(shape: number[], seed: number) {
  const ch = shape[shape.length - 1]!;
  const axes = shape.slice(0, -1).map((_, i) => i);
  return () => {
    const x = tf.add(tf.mul(rand(shape, seed), 2), 0.5);
    const gamma = tf.add(rand([ch], seed + 1), 1.5);
    const beta = rand([ch], seed + 2);
    const weights = rand(shape, seed + 3);
    const f = (xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const { mean, variance } = tf.moments(xx, axes);
      const y = tf.batchNorm(xx, mean, variance, b, g, 1e-3);
      return tf.sum(tf.mul(y, weights));
    };
    const { value, grads } = tf.valueAndGrads(f)([x, gamma, beta]);
    const y = tf.batchNorm(x, tf.mean(x, axes), tf.moments(x, axes).variance, beta, gamma, 1e-3);
    return [y, value, ...grads];
  };
}

const SHAPES: number[][] = [
  [2, 5, 7, 16], // the 4-channel SIMD path
  [3, 4, 4, 5], // 4 + 1 remainder channel
  [1, 9, 3, 3], // scalar channels only
  [4, 1], // dense batch norm, one channel
  [130, 12], // more rows than a float32 partial-sum block
];

describe('csq fused batch norm (forward, and gradients for x, gamma, beta) matches the cpu backend', () => {
  for (const [i, shape] of SHAPES.entries()) {
    it(`x [${shape}]`, async () => {
      const run = trainingBatchNorm(shape, 10 * i + 1);
      const expected = await valuesOn('cpu', run);
      const actual = await valuesOn('wasm', run);
      for (let k = 0; k < expected.length; k++) expectRelClose(actual[k]!, expected[k]!, 1e-5);
    });
  }

  it('runs as csq fused kernels on wasm: one pass each for BN, Mean and Square gradients', async () => {
    await useBackend('wasm');
    const run = trainingBatchNorm([2, 4, 4, 8], 5);
    const info = await tf.profile(() => tf.dispose(run()));
    const names = info.kernels.map((k) => k.name);
    expect(names).toContain('CsqFusedBatchNormGrad');
    expect(names.filter((n) => n === 'CsqBroadcastRows').length).toBe(2); // both means
    expect(names).toContain('CsqMulScaled');
    // tfjs-core's composed gradient would run Rsqrt and Tile; csq's does not
    expect(names).not.toContain('Rsqrt');
    expect(names).not.toContain('Tile');
  });

  it('claims its gradient back when tfjs-core re-registers its own', async () => {
    await useBackend('wasm');
    const core = originalGradient('FusedBatchNorm');
    expect(core).toBeDefined();
    tf.registerGradient(core!); // what a later import of @tensorflow/tfjs does
    expect(isCsqGradient('FusedBatchNorm')).toBe(false);
    tf.tidy(() => tf.batchNorm(rand([2, 4], 1), rand([4], 2), tf.ones([4])));
    expect(isCsqGradient('FusedBatchNorm')).toBe(true);
    claimGradient(fusedBatchNormGradConfig);
    expect(originalGradient('FusedBatchNorm')).toBe(core);
  });
});
