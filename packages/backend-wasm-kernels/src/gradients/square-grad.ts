/**
 * Gradient of `Square` (the deviations of tf.moments): dx = 2 x dy. tfjs-core's is a Cast and
 * two Muls; on wasm this is one SIMD pass (`CsqMulScaled`). Other backends: tfjs-core's.
 */
import * as tf from '@tensorflow/tfjs-core';
import { simdFor } from '../wasm/simd.js';
import { fallbackGradient } from './claim.js';

/** csq's gradient config for `Square` (falls back to tfjs-core's). */
export const squareGradConfig: tf.GradConfig = {
  kernelName: 'Square',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as [tf.Tensor];
    if (
      Array.isArray(dy) ||
      x.dtype !== 'float32' ||
      dy.dtype !== 'float32' ||
      tf.getBackend() !== 'wasm' ||
      tf.getKernel('CsqMulScaled', 'wasm') == null ||
      simdFor(tf.backend()) == null
    ) {
      return fallbackGradient('Square', dy, saved, attrs);
    }
    return {
      x: () => tf.engine().runKernel('CsqMulScaled', { a: dy, b: x }, { scale: 2 }) as tf.Tensor,
    };
  },
};
