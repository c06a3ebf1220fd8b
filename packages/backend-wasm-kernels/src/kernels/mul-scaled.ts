/**
 * `CsqMulScaled`, csq's own kernel behind the Square gradient on wasm: out = a * b * scale,
 * element-wise over same-size float32 tensors (kernels.wat `mul_scaled`).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { WasmKernelSpec } from '../kernel-spec.js';
import { ptr, simdFor, type WasmBackendInternals } from '../wasm/simd.js';

const mulScaled: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { a, b: bIn } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const simd = simdFor(backend);
  if (simd == null) throw new Error('CsqMulScaled: the SIMD module is not available');
  const b = backend as WasmBackendInternals;
  const out = b.makeOutput(bIn.shape, 'float32');
  const n = bIn.shape.reduce((p, q) => p * q, 1);
  simd.mul_scaled(ptr(b, a), ptr(b, bIn), ptr(b, out), n, (attrs as { scale: number }).scale);
  return out;
};

/** Registration of `CsqMulScaled` (csq's own kernel name). */
export const mulScaledSpec: WasmKernelSpec = {
  kernelName: 'CsqMulScaled',
  reason: 'fused',
  make: () => mulScaled,
};
