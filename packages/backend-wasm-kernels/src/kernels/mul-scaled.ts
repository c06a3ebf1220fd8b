/**
 * `CsqMulScaled`, csq's own kernel behind the Square gradient on wasm: out = a * b * scale,
 * element-wise over same-size float32 tensors (kernels.wat `mul_scaled`).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { WasmKernelSpec } from '../kernel-spec.js';
import { MIN_ELEMENTS_PER_PART, partCount, runKernelParts, splitRange } from '../wasm/pool.js';
import { ptr, simdFor, type WasmBackendInternals } from '../wasm/simd.js';

const mulScaled: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { a, b: bIn } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const simd = simdFor(backend);
  if (simd == null) throw new Error('CsqMulScaled: the SIMD module is not available');
  const b = backend as WasmBackendInternals;
  const out = b.makeOutput(bIn.shape, 'float32');
  const n = bIn.shape.reduce((p, q) => p * q, 1);
  const scale = (attrs as { scale: number }).scale;
  const [aP, bP, oP] = [ptr(b, a), ptr(b, bIn), ptr(b, out)];
  // threads split the elements (multiples of 4): disjoint parts of out (bit-exact)
  const parts = splitRange(n, partCount(b, n, MIN_ELEMENTS_PER_PART), 4);
  runKernelParts(
    b,
    simd,
    'mul_scaled',
    parts.map(([i0, i1]) => [aP + 4 * i0, bP + 4 * i0, oP + 4 * i0, i1 - i0, scale]),
  );
  return out;
};

/** Registration of `CsqMulScaled` (csq's own kernel name). */
export const mulScaledSpec: WasmKernelSpec = {
  kernelName: 'CsqMulScaled',
  reason: 'fused',
  make: () => mulScaled,
};
