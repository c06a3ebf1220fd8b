/**
 * `CsqBroadcastRows`, csq's own kernel behind the Mean gradient on wasm: out (attr `shape`) is
 * x * scale repeated along the leading axes, x holding the trailing ones (kernels.wat
 * `broadcast_rows`).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { WasmKernelSpec } from '../kernel-spec.js';
import { MIN_ELEMENTS_PER_PART, partCount, runKernelParts, splitRange } from '../wasm/pool.js';
import { f32View, ptr, Scratch, simdFor, type WasmBackendInternals } from '../wasm/simd.js';

const broadcastRows: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs.x as tf.TensorInfo;
  const { shape, scale } = attrs as unknown as { shape: number[]; scale: number };
  const simd = simdFor(backend);
  if (simd == null) throw new Error('CsqBroadcastRows: the SIMD module is not available');
  const b = backend as WasmBackendInternals;
  const ch = x.shape.reduce((p, q) => p * q, 1);
  const total = shape.reduce((p, q) => p * q, 1);
  const out = b.makeOutput(shape, 'float32');
  const scratch = new Scratch(b);
  try {
    const srcP = scratch.alloc(ch * 4);
    const src = scratch.f32(srcP, ch);
    const xs = f32View(b, x);
    for (let c = 0; c < ch; c++) src[c] = xs[c]! * scale;
    const rows = ch === 0 ? 0 : total / ch;
    const outP = ptr(b, out);
    // threads split the rows: disjoint parts of out (bit-exact)
    const parts = splitRange(rows, partCount(b, total, MIN_ELEMENTS_PER_PART));
    runKernelParts(
      b,
      simd,
      'broadcast_rows',
      parts.map(([r0, r1]) => [srcP, outP + r0 * ch * 4, r1 - r0, ch]),
    );
  } finally {
    scratch.free();
  }
  return out;
};

/** Registration of `CsqBroadcastRows` (csq's own kernel name). */
export const broadcastRowsSpec: WasmKernelSpec = {
  kernelName: 'CsqBroadcastRows',
  reason: 'fused',
  make: () => broadcastRows,
};
