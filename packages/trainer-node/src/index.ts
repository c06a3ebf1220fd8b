/**
 * @csq/trainer-node: CSQ training in Node.js. Picks the fastest tfjs backend present
 * (tfjs-node-gpu, tfjs-node, wasm, cpu) and, on import, registers the wasm kernels that
 * conv-net training needs and tfjs-backend-wasm 4.22 lacks or runs slowly.
 */
// The union package registers every gradient; the wasm backend's kernels must be registered
// before ours, which wrap some of them.
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from './wasm/register.js';

export {
  type BackendAttempt,
  type BackendChoice,
  type BackendDescription,
  type BackendLoader,
  type BackendSelection,
  describeBackend,
  installHint,
  isNotInstalledError,
  NODE_BACKENDS,
  type NodeBackendName,
  type SelectBackendOptions,
  selectBackend,
} from './backend.js';
export { interruptSignal } from './interrupt.js';
export { FileRunStore, fileRunStore } from './run-store.js';
export { type TrainNodeOptions, trainNode } from './train-node.js';
export {
  isCsqWasmKernel,
  registerWasmTrainingKernels,
  WASM_TRAINING_KERNELS,
} from './wasm/register.js';

registerWasmTrainingKernels();
