/**
 * `Cast` for the wasm backend: a cast to the tensor's own dtype shares its data (as on the cpu
 * backend; tf.moments casts its float32 input to float32); other casts are wasm's own.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { WasmKernelSpec } from '../kernel-spec.js';
import type { WasmBackendInternals } from '../wasm/simd.js';

function sameTypeCast(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === 'string' || (args.attrs as { dtype: string }).dtype !== x.dtype) {
      return original(args);
    }
    (args.backend as WasmBackendInternals).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}

/** Registration of `Cast` (wraps wasm's own kernel). */
export const castSpec: WasmKernelSpec = {
  kernelName: 'Cast',
  reason: 'faster',
  make: (original) => original && sameTypeCast(original),
};
