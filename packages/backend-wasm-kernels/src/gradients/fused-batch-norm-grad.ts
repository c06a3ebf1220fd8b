/**
 * Gradient of `FusedBatchNorm` (tf.batchNorm; what tf.layers.batchNormalization runs after
 * tf.moments in training). tfjs-core's is ~15 composed kernels over the whole activation; on wasm,
 * for per-channel statistics (the layers' case), this one is a single SIMD pass
 * (`CsqFusedBatchNormGrad`) returning the same five gradients:
 *   dx = dy k,  k = scale / sqrt(variance + eps);   dmean = -k sum(dy);
 *   dvariance = -scale / 2 (variance + eps)^(-3/2) sum(dy (x - mean));
 *   dscale = sum(dy (x - mean)) / sqrt(variance + eps);   doffset = sum(dy)
 * (sums over every axis but the last; the gradients through tf.moments are added by the tape).
 */
import * as tf from '@tensorflow/tfjs-core';
import { simdFor } from '../wasm/simd.js';
import { fallbackGradient } from './claim.js';

/** True when csq's fused kernel computes this batch norm's gradient on the active backend. */
export function fusesBatchNormGrad(
  x: tf.Tensor,
  mean: tf.Tensor,
  variance: tf.Tensor,
  scale: tf.Tensor | undefined,
): boolean {
  if (
    tf.getBackend() !== 'wasm' ||
    tf.getKernel('CsqFusedBatchNormGrad', 'wasm') == null ||
    simdFor(tf.backend()) == null
  ) {
    return false;
  }
  const ch = x.shape[x.shape.length - 1] ?? 0;
  const perChannel = (t: tf.Tensor) => t.rank === 1 && t.size === ch && t.dtype === 'float32';
  return (
    x.rank >= 1 &&
    ch > 0 &&
    x.dtype === 'float32' &&
    perChannel(mean) &&
    perChannel(variance) &&
    (scale == null || perChannel(scale))
  );
}

/** csq's gradient config for `FusedBatchNorm` (falls back to tfjs-core's). */
export const fusedBatchNormGradConfig: tf.GradConfig = {
  kernelName: 'FusedBatchNorm',
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy, saved, attrs) => {
    const [x, mean, variance, scale] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor?];
    if (!fusesBatchNormGrad(x, mean, variance, scale) || Array.isArray(dy)) {
      return fallbackGradient('FusedBatchNorm', dy, saved, attrs);
    }
    const inputs: tf.NamedTensorMap = { x, dy, mean, variance };
    if (scale != null) inputs.scale = scale;
    const [dx, dMean, dVariance, dScale, dOffset] = tf
      .engine()
      .runKernel('CsqFusedBatchNormGrad', inputs, attrs) as tf.Tensor[];
    return {
      x: () => dx!,
      mean: () => dMean!,
      variance: () => dVariance!,
      scale: () => dScale!,
      offset: () => dOffset!,
    };
  },
};
