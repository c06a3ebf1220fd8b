/**
 * `CsqBatchNormTrainingGrad`: the gradient of `CsqBatchNormTraining` (batch statistics, so the
 * gradient flows through mean and variance too), in two SIMD passes over x and dy: the
 * per-channel sums (kernels.wat `bn_sums`), then dx (`bn_train_dx`). With M rows,
 * inv = 1 / sqrt(variance + eps), k = scale inv, S1 = sum dy, S2 = sum dy (x - mean):
 *   dx = k dy - k inv^2 S2 / M (x - mean) - k S1 / M,   dscale = inv S2,   doffset = S1
 * Inputs dy, x, scale, mean, variance (the forward's outputs); attrs varianceEpsilon; outputs
 * dx, dscale, doffset.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { WasmKernelSpec } from '../kernel-spec.js';
import { runKernelParts } from '../wasm/pool.js';
import { RowSums, rowRanges } from '../wasm/row-parts.js';
import { f32View, ptr, Scratch, simdFor, type WasmBackendInternals } from '../wasm/simd.js';

type TensorInfo = tf.TensorInfo;

/** The kernel's name, which @csq/layers looks up (a contract between the two packages). */
export const BATCH_NORM_TRAINING_GRAD = 'CsqBatchNormTrainingGrad';

const batchNormTrainingGrad: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, x, scale, mean, variance } = inputs as Record<string, TensorInfo>;
  const simd = simdFor(backend);
  if (simd == null)
    throw new Error(`${BATCH_NORM_TRAINING_GRAD}: the SIMD module is not available`);
  const b = backend as WasmBackendInternals;
  const eps = (attrs as { varianceEpsilon: number }).varianceEpsilon;
  const ch = x!.shape[x!.shape.length - 1]!;
  const rows = x!.shape.reduce((p, q) => p * q, 1) / ch;
  const dx = b.makeOutput(x!.shape, 'float32');
  const dScale = b.makeOutput([ch], 'float32');
  const dOffset = b.makeOutput([ch], 'float32');
  const scratch = new Scratch(b);
  try {
    const aP = scratch.alloc(ch * 4);
    const bP = scratch.alloc(ch * 4);
    const eP = scratch.alloc(ch * 4);
    // threads split the rows (row-parts.ts): the sums at multiples of 64 rows (float64
    // additions reordered), dx by rows (bit-exact)
    const sums = new RowSums(b, scratch, rows, ch);
    const rowBytes = ch * 4;
    const [xP, dyP, dxP, meanP] = [ptr(b, x!), ptr(b, dy!), ptr(b, dx), ptr(b, mean!)];
    const [s1, s2] = sums.run(simd, 'bn_sums', (r0, r1, acc1, acc2, tot1, tot2) => {
      const o = r0 * rowBytes;
      return [xP + o, dyP + o, r1 - r0, ch, meanP, acc1, acc2, tot1, tot2];
    });
    const v = f32View(b, variance!);
    const s = f32View(b, scale!);
    const [a, bb, e] = [aP, bP, eP].map((p) => scratch.f32(p, ch)) as Float32Array[];
    const ds = f32View(b, dScale);
    const db = f32View(b, dOffset);
    for (let c = 0; c < ch; c++) {
      const inv = 1 / Math.sqrt(v[c]! + eps);
      const k = s[c]! * inv;
      a![c] = k;
      bb![c] = (-k * inv * inv * s2[c]!) / rows;
      e![c] = (-k * s1[c]!) / rows;
      ds[c] = inv * s2[c]!;
      db[c] = s1[c]!;
    }
    runKernelParts(
      b,
      simd,
      'bn_train_dx',
      rowRanges(b, rows, ch).map(([r0, r1]) => {
        const o = r0 * rowBytes;
        return [xP + o, dyP + o, dxP + o, r1 - r0, ch, meanP, aP, bP, eP];
      }),
    );
  } finally {
    scratch.free();
  }
  return [dx, dScale, dOffset];
};

/** Registration of `CsqBatchNormTrainingGrad` (csq's own kernel name). */
export const batchNormTrainingGradSpec: WasmKernelSpec = {
  kernelName: BATCH_NORM_TRAINING_GRAD,
  reason: 'fused',
  make: () => batchNormTrainingGrad,
};
