/**
 * `Identity` for the wasm backend without a copy: like the cpu backend, the output shares the
 * input's data and bumps its reference count (tfjs-core clones every tensor it saves for a
 * gradient through this kernel; wasm's own copies the memory).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { WasmKernelSpec } from '../kernel-spec.js';
import type { WasmBackendInternals } from '../wasm/simd.js';

/** Wraps wasm's Identity: numeric tensors share their data; strings use the original. */
export function sharedIdentity(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === 'string') return original(args);
    (args.backend as WasmBackendInternals).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}

/** Registration of `Identity` (wraps wasm's own kernel). */
export const identitySpec: WasmKernelSpec = {
  kernelName: 'Identity',
  reason: 'faster',
  make: (original) => original && sharedIdentity(original),
};
