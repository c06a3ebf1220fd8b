/**
 * The shape of one csq wasm kernel registration: each file under kernels/ exports one.
 */
import type * as tf from '@tensorflow/tfjs-core';

/** One kernel this package registers for the 'wasm' backend, with why. */
export interface WasmKernelSpec {
  /** The tfjs kernel name (`tf.KernelConfig.kernelName`). */
  kernelName: string;
  /**
   * Why it is registered: 'missing' (wasm has none), 'faster' (wasm's own is slow) or 'fused'
   * (a kernel of csq's own that one of csq's gradients calls, see gradients/).
   */
  reason: 'missing' | 'faster' | 'fused';
  /** Builds the kernel from wasm's own one (if any); undefined when it cannot. */
  make(original: tf.KernelFunc | undefined): tf.KernelFunc | undefined;
}
