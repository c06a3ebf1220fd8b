/**
 * `Sum` for the wasm backend: outer-axis float32 sums become an average pooling (see reduce.ts).
 */
import type { WasmKernelSpec } from '../kernel-spec.js';
import { poolingSum } from '../reduce.js';

/** Registration of `Sum` (wraps wasm's own kernel). */
export const sumSpec: WasmKernelSpec = {
  kernelName: 'Sum',
  reason: 'faster',
  make: (original) => original && poolingSum(original),
};
