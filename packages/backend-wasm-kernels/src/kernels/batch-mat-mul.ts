/**
 * `BatchMatMul` for the wasm backend: transposed single-batch products run untransposed (see mat-mul.ts).
 */
import type { WasmKernelSpec } from '../kernel-spec.js';
import { untransposedMatMul } from '../mat-mul.js';

/** Registration of `BatchMatMul` (wraps wasm's own kernel). */
export const batchMatMulSpec: WasmKernelSpec = {
  kernelName: 'BatchMatMul',
  reason: 'faster',
  make: (original) => original && untransposedMatMul(original),
};
