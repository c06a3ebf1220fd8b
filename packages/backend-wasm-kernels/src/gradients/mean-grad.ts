/**
 * Gradient of `Mean` over leading axes (tf.moments' batch statistics): dx = dy / count broadcast
 * to x's shape. tfjs-core builds it from a Fill, a Mul and a Div over the whole tensor; on wasm
 * this is one SIMD broadcast (`CsqBroadcastRows`). Other axes and backends: tfjs-core's.
 */
import * as tf from '@tensorflow/tfjs-core';
import { simdFor } from '../wasm/simd.js';
import { fallbackGradient } from './claim.js';

/** Number of leading axes `axes` reduces (0 when they are not exactly the leading ones). */
export function leadingAxes(axes: readonly number[]): number {
  const sorted = [...new Set(axes)].sort((a, b) => a - b);
  return sorted.every((a, i) => a === i) ? sorted.length : 0;
}

/** csq's gradient config for `Mean` (falls back to tfjs-core's). */
export const meanGradConfig: tf.GradConfig = {
  kernelName: 'Mean',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as [tf.Tensor];
    const axes = tf.util.parseAxisParam((attrs as { axis: number | number[] }).axis, x.shape);
    const lead = leadingAxes(axes);
    if (
      Array.isArray(dy) ||
      lead === 0 ||
      x.dtype !== 'float32' ||
      x.size === 0 ||
      tf.getBackend() !== 'wasm' ||
      tf.getKernel('CsqBroadcastRows', 'wasm') == null ||
      simdFor(tf.backend()) == null
    ) {
      return fallbackGradient('Mean', dy, saved, attrs);
    }
    const count = tf.util.sizeFromShape(x.shape.slice(0, lead));
    return {
      x: () =>
        tf
          .engine()
          .runKernel(
            'CsqBroadcastRows',
            { x: dy },
            { shape: x.shape, scale: 1 / count },
          ) as tf.Tensor,
    };
  },
};
