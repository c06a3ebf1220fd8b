/**
 * `CsqSgdMomentum`: one SGD-with-momentum step (PyTorch's order, @csq/trainer's SgdMomentum) in
 * one SIMD pass instead of six tfjs kernels per variable (kernels.wat `sgd_momentum`):
 *   d = g + v wd;   buf' = buf mu + d;   v' = v - buf' lr
 * Inputs v, g, buf (same shape, float32); attrs lr, momentum, weightDecay; outputs v', buf'.
 * Bit-exact with the composed ops (the same float32 operations in the same order).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { WasmKernelSpec } from '../kernel-spec.js';
import { MIN_ELEMENTS_PER_PART, partCount, runKernelParts, splitRange } from '../wasm/pool.js';
import { ptr, simdFor, type WasmBackendInternals } from '../wasm/simd.js';

/** The kernel's name, which @csq/trainer looks up (a contract between the two packages). */
export const SGD_MOMENTUM = 'CsqSgdMomentum';

const sgdMomentum: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { v, g, buf } = inputs as Record<string, tf.TensorInfo>;
  const simd = simdFor(backend);
  if (simd == null) throw new Error(`${SGD_MOMENTUM}: the SIMD module is not available`);
  const b = backend as WasmBackendInternals;
  const shape = v!.shape.join();
  if (g!.shape.join() !== shape || buf!.shape.join() !== shape) {
    throw new Error(`${SGD_MOMENTUM}: v, g and buf must have the same shape`);
  }
  const { lr, momentum, weightDecay } = attrs as {
    lr: number;
    momentum: number;
    weightDecay: number;
  };
  const n = v!.shape.reduce((p, q) => p * q, 1);
  const vOut = b.makeOutput(v!.shape, 'float32');
  const bOut = b.makeOutput(v!.shape, 'float32');
  const [vP, gP, bP, voP, boP] = [v!, g!, buf!, vOut, bOut].map((t) => ptr(b, t)) as number[];
  // threads split the elements (multiples of 4): disjoint parts of the outputs (bit-exact)
  const parts = splitRange(n, partCount(b, n, MIN_ELEMENTS_PER_PART), 4);
  runKernelParts(
    b,
    simd,
    'sgd_momentum',
    parts.map(([i0, i1]) => {
      const o = 4 * i0;
      return [vP! + o, gP! + o, bP! + o, voP! + o, boP! + o, i1 - i0, lr, momentum, weightDecay];
    }),
  );
  return [vOut, bOut];
};

/** Registration of `CsqSgdMomentum` (csq's own kernel name). */
export const sgdMomentumSpec: WasmKernelSpec = {
  kernelName: SGD_MOMENTUM,
  reason: 'fused',
  make: () => sgdMomentum,
};
