/**
 * @csq/backend-wasm-kernels: csq's training kernels for TensorFlow.js's wasm backend, in Node
 * and in browsers. Importing this module registers them (after importing
 * `@tensorflow/tfjs-backend-wasm`, whose kernels some of them wrap); registering again is a
 * no-op, so two imports (or two copies) register once.
 */
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from './register.js';

export { type BrowserWasmThreads, enableBrowserWasmThreads } from './browser-threads.js';
export type { WasmKernelSpec } from './kernel-spec.js';
export {
  isCsqWasmKernel,
  registerWasmTrainingKernels,
  replacedWasmKernel,
  useStockWasmKernels,
  WASM_TRAINING_GRADIENTS,
  WASM_TRAINING_KERNELS,
} from './register.js';
export {
  configureKernelPool,
  type KernelPoolOptions,
  type KernelWorkerHandle,
  type KernelWorkerSpawner,
  kernelPoolState,
  kernelThreads,
  runKernelParts,
  setKernelWorkerSpawner,
  shutdownKernelPool,
} from './wasm/pool.js';
export { setSimdKernelsEnabled, simdReady } from './wasm/simd.js';

registerWasmTrainingKernels();
