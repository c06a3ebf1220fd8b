/**
 * `Mean` for the wasm backend: outer-axis float32 means become an average pooling (see
 * reduce.ts); each run claims csq's fused Mean gradient (gradients/mean-grad.ts).
 */
import { claiming } from '../gradients/claim.js';
import { meanGradConfig } from '../gradients/mean-grad.js';
import type { WasmKernelSpec } from '../kernel-spec.js';
import { poolingMean } from '../reduce.js';

/** Registration of `Mean` (wraps wasm's own kernel). */
export const meanSpec: WasmKernelSpec = {
  kernelName: 'Mean',
  reason: 'faster',
  make: (original) => original && claiming(meanGradConfig, poolingMean(original)),
};
