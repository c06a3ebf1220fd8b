/**
 * `CsqBatchNormTraining`, csq's own kernel behind the fused batch-norm op of @csq/layers'
 * builders in training (batch statistics and normalization in one call, where tfjs runs
 * tf.moments and tf.batchNorm as ~6 kernels): one SIMD pass for the per-channel sums
 * (kernels.wat `bn_sums`, shifted by x's first row and totalled in float64, so the one-pass
 * variance keeps its digits) and one for y (`bn_forward`).
 *   mean = E[x],  variance = E[(x - mean)^2] (biased, as tf.moments),
 *   y = (x - mean) scale / sqrt(variance + eps) + offset
 * Inputs x [..., ch], scale [ch], offset [ch]; attrs varianceEpsilon; outputs y, mean, variance.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { WasmKernelSpec } from '../kernel-spec.js';
import { bnForwardRows, RowSums } from '../wasm/row-parts.js';
import { f32View, ptr, Scratch, simdFor, type WasmBackendInternals } from '../wasm/simd.js';

type TensorInfo = tf.TensorInfo;

/** The kernel's name, which @csq/layers looks up (a contract between the two packages). */
export const BATCH_NORM_TRAINING = 'CsqBatchNormTraining';

const batchNormTraining: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, scale, offset } = inputs as Record<string, TensorInfo | undefined>;
  const simd = simdFor(backend);
  if (simd == null) throw new Error(`${BATCH_NORM_TRAINING}: the SIMD module is not available`);
  if (x == null || scale == null || offset == null || x.dtype !== 'float32') {
    throw new Error(`${BATCH_NORM_TRAINING}: needs float32 x, scale and offset`);
  }
  const b = backend as WasmBackendInternals;
  const eps = (attrs as { varianceEpsilon: number }).varianceEpsilon;
  const ch = x.shape[x.shape.length - 1] ?? 0;
  const rows = ch > 0 ? x.shape.reduce((p, q) => p * q, 1) / ch : 0;
  if (rows === 0) throw new Error(`${BATCH_NORM_TRAINING}: x is empty`);
  const y = b.makeOutput(x.shape, 'float32');
  const mean = b.makeOutput([ch], 'float32');
  const variance = b.makeOutput([ch], 'float32');
  const scratch = new Scratch(b);
  try {
    const shiftP = scratch.alloc(ch * 4);
    const kP = scratch.alloc(ch * 4);
    // threads split the rows (row-parts.ts): the sums at multiples of 64 rows (float64
    // additions reordered), y by rows (bit-exact)
    const sums = new RowSums(b, scratch, rows, ch);
    // views only after the last allocation (a memory growth detaches them)
    const shift = scratch.f32(shiftP, ch);
    shift.set(f32View(b, x).subarray(0, ch));
    const rowBytes = ch * 4;
    const [xP, yP, meanP, offsetP] = [ptr(b, x), ptr(b, y), ptr(b, mean), ptr(b, offset)];
    const [t1, t2] = sums.run(simd, 'bn_sums', (r0, r1, acc1, acc2, tot1, tot2) => [
      xP + r0 * rowBytes,
      0,
      r1 - r0,
      ch,
      shiftP,
      acc1,
      acc2,
      tot1,
      tot2,
    ]);
    const m = f32View(b, mean);
    const v = f32View(b, variance);
    const s = f32View(b, scale);
    const k = scratch.f32(kP, ch);
    for (let c = 0; c < ch; c++) {
      const d = t1[c]! / rows;
      m[c] = shift[c]! + d;
      v[c] = Math.max(0, t2[c]! / rows - d * d);
      k[c] = s[c]! / Math.sqrt(v[c]! + eps);
    }
    bnForwardRows(b, simd, { x: xP, y: yP, rows, ch, mean: meanP, k: kP, beta: offsetP });
  } finally {
    scratch.free();
  }
  return [y, mean, variance];
};

/** Registration of `CsqBatchNormTraining` (csq's own kernel name). */
export const batchNormTrainingSpec: WasmKernelSpec = {
  kernelName: BATCH_NORM_TRAINING,
  reason: 'fused',
  make: () => batchNormTraining,
};
