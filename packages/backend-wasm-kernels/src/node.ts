/**
 * @csq/backend-wasm-kernels/node: Node-only additions. Importing it registers csq's kernels (as
 * the main entry does) and offers {@link enableWasmThreads}, which turns tfjs-backend-wasm's
 * threaded build on in Node.
 */
export * from './index.js';
export {
  MAX_WASM_THREADS,
  resolveWasmThreads,
  type WasmThreadsOptions,
} from './node/thread-count.js';
export { enableWasmThreads, type WasmThreadsSetup } from './node/threads.js';
