/**
 * `Square` for the wasm backend: float32 in one SIMD pass (kernels.wat `mul_scaled`: x * x;
 * wasm's own is a scalar loop), and each run claims csq's fused Square gradient
 * (gradients/square-grad.ts). Other dtypes: wasm's own.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { claimGradient } from '../gradients/claim.js';
import { squareGradConfig } from '../gradients/square-grad.js';
import type { WasmKernelSpec } from '../kernel-spec.js';
import { ptr, simdFor, type WasmBackendInternals } from '../wasm/simd.js';

function squareSimd(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    claimGradient(squareGradConfig);
    const x = args.inputs.x as tf.TensorInfo;
    const simd = simdFor(args.backend);
    if (simd == null || x.dtype !== 'float32') return original(args);
    const b = args.backend as WasmBackendInternals;
    const out = b.makeOutput(x.shape, 'float32');
    const n = x.shape.reduce((p, q) => p * q, 1);
    simd.mul_scaled(ptr(b, x), ptr(b, x), ptr(b, out), n, 1);
    return out;
  };
}

/** Registration of `Square` (wraps wasm's own kernel). */
export const squareSpec: WasmKernelSpec = {
  kernelName: 'Square',
  reason: 'faster',
  make: (original) => original && squareSimd(original),
};
