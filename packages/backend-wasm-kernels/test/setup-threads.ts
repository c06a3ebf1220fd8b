// With CSQ_WASM_THREADS set (e.g. CSQ_WASM_THREADS=2 npx vitest run), every test file runs its
// wasm cases on tfjs-backend-wasm's threaded build: the kernel tests vs cpu then cover it too,
// with csq's own kernels split across the threads however small their work (partThreshold 0).
import * as tf from '@tensorflow/tfjs-core';
import { afterAll } from 'vitest';
import { configureKernelPool, enableWasmThreads } from '../src/node.js';

if (process.env.CSQ_WASM_THREADS) {
  const setup = enableWasmThreads();
  configureKernelPool({ partThreshold: 0 });
  afterAll(() => {
    const wasm = (tf.engine() as unknown as { registry: Record<string, unknown> }).registry
      .wasm as unknown as {
      wasm?: { wasmMemory?: WebAssembly.Memory };
    };
    if (wasm == null || setup.requested === 1) return; // this file never started wasm
    if (!(wasm.wasm?.wasmMemory?.buffer instanceof SharedArrayBuffer)) {
      throw new Error(
        `CSQ_WASM_THREADS=${process.env.CSQ_WASM_THREADS} but wasm ran single-threaded: ${setup.reason}`,
      );
    }
  });
}
