/**
 * @csq/trainer-node: CSQ training in Node.js. Picks the fastest tfjs backend present
 * (tfjs-node-gpu, tfjs-node, wasm, cpu); importing it imports @csq/backend-wasm-kernels, which
 * registers the wasm kernels that conv-net training needs (once per process). Re-exports
 * @csq/trainer, so a Node program imports this one package.
 */
// The union package registers every gradient; @csq/backend-wasm-kernels imports the wasm
// backend before registering its kernels, some of which wrap wasm's own.
import '@tensorflow/tfjs';
import '@csq/backend-wasm-kernels';

export {
  isCsqWasmKernel,
  registerWasmTrainingKernels,
  WASM_TRAINING_KERNELS,
} from '@csq/backend-wasm-kernels';
export { enableWasmThreads, resolveWasmThreads } from '@csq/backend-wasm-kernels/node';
export * from '@csq/trainer';
export {
  type BackendAttempt,
  type BackendChoice,
  type BackendDescription,
  type BackendLoader,
  type BackendSelection,
  describeBackend,
  installHint,
  isNotInstalledError,
  type LoadedBackend,
  NODE_BACKENDS,
  type NodeBackendName,
  type SelectBackendOptions,
  selectBackend,
  webGpuLoader,
} from './backend.js';
export {
  CUDA11_FIX,
  type CudaLibrary,
  type CudaReport,
  type InspectCudaOptions,
  inspectCuda,
  missingForTfjsNodeGpu,
  TFJS_NODE_GPU_NEEDS,
} from './cuda-libs.js';
export {
  type DoctorBackend,
  type DoctorCheck,
  type DoctorOptions,
  type DoctorReport,
  doctor,
  formatDoctorReport,
  type WebGpuInspection,
} from './doctor.js';
export { interruptSignal } from './interrupt.js';
export {
  ACTIVATION_BYTES,
  checkWasmMemory,
  estimateTrainingMemory,
  guardMemory,
  isWasmAbort,
  type MemoryEstimate,
  TRAINABLE_BYTES,
  WASM_HEAP_LIMIT,
} from './memory.js';
export { floatParamCount, removeFailedStart, startRunDir, writeSummary } from './run-dir.js';
export {
  acquireRunLock,
  type LockOwner,
  ownerIsGone,
  RUN_LOCK,
  type RunLock,
} from './run-lock.js';
export { FileRunStore, fileRunStore } from './run-store.js';
export { type TrainNodeOptions, type TrainNodeResult, trainNode } from './train-node.js';
