/**
 * Starts csq's kernel workers (wasm/pool.ts) in Node: `worker_threads` workers evaluating the
 * worker source, unreferenced so that they never keep the process alive (they sleep in
 * Atomics.wait between kernels).
 */
import { Worker } from 'node:worker_threads';
import type { KernelWorkerSpawner } from '../wasm/pool.js';

/** The Node spawner; `@csq/backend-wasm-kernels/node` installs it on import. */
export const nodeKernelWorkerSpawner: KernelWorkerSpawner = (source, onFailure) => {
  const text = `${source}\nrequire('node:worker_threads').parentPort.once('message', csqKernelWorker);`;
  const w = new Worker(text, { eval: true, name: 'csq-kernels' });
  let ending = false;
  w.on('error', (e) => onFailure(`a csq kernel worker failed: ${String(e)}`));
  w.on('exit', (code) => {
    if (!ending) onFailure(`a csq kernel worker exited (code ${code})`);
  });
  w.unref();
  return {
    postMessage: (m) => w.postMessage(m),
    terminate: () => {
      ending = true;
      void w.terminate();
    },
  };
};
