/**
 * @csq/backend-wasm-kernels/node: Node-only additions. Importing it registers csq's kernels (as
 * the main entry does) and offers {@link enableWasmThreads}, which turns tfjs-backend-wasm's
 * threaded build on in Node, and starts csq's kernel workers with `worker_threads` (so csq's own
 * kernels split their work across the threads of the threaded build).
 */
import { nodeKernelWorkerSpawner } from './node/kernel-workers.js';
import { setKernelWorkerSpawner } from './wasm/pool.js';

export * from './index.js';
export {
  MAX_WASM_THREADS,
  resolveWasmThreads,
  type WasmThreadsOptions,
} from './node/thread-count.js';
export { enableWasmThreads, type WasmThreadsSetup } from './node/threads.js';

setKernelWorkerSpawner(nodeKernelWorkerSpawner);
