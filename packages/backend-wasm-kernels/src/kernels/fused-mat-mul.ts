/**
 * `_FusedMatMul` for the wasm backend: transposed single-batch products run untransposed (see mat-mul.ts).
 */
import type { WasmKernelSpec } from '../kernel-spec.js';
import { untransposedMatMul } from '../mat-mul.js';

/** Registration of `_FusedMatMul` (wraps wasm's own kernel). */
export const fusedMatMulSpec: WasmKernelSpec = {
  kernelName: '_FusedMatMul',
  reason: 'faster',
  make: (original) => original && untransposedMatMul(original),
};
