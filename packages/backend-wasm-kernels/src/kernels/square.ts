/**
 * `Square` for the wasm backend: wasm's own kernel, claiming csq's fused Square gradient
 * (gradients/square-grad.ts) on each run.
 */
import { claiming } from '../gradients/claim.js';
import { squareGradConfig } from '../gradients/square-grad.js';
import type { WasmKernelSpec } from '../kernel-spec.js';

/** Registration of `Square` (wraps wasm's own kernel). */
export const squareSpec: WasmKernelSpec = {
  kernelName: 'Square',
  reason: 'faster',
  make: (original) => original && claiming(squareGradConfig, original),
};
