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
    const acc1P = scratch.alloc(ch * 4);
    const acc2P = scratch.alloc(ch * 4);
    const tot1P = scratch.alloc(ch * 8);
    const tot2P = scratch.alloc(ch * 8);
    const aP = scratch.alloc(ch * 4);
    const bP = scratch.alloc(ch * 4);
    const eP = scratch.alloc(ch * 4);
    scratch.f32(acc1P, ch).fill(0);
    scratch.f32(acc2P, ch).fill(0);
    scratch.f64(tot1P, ch).fill(0);
    scratch.f64(tot2P, ch).fill(0);
    simd.bn_sums(ptr(b, x!), ptr(b, dy!), rows, ch, ptr(b, mean!), acc1P, acc2P, tot1P, tot2P);
    const s1 = scratch.f64(tot1P, ch);
    const s2 = scratch.f64(tot2P, ch);
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
    simd.bn_train_dx(ptr(b, x!), ptr(b, dy!), ptr(b, dx), rows, ch, ptr(b, mean!), aP, bP, eP);
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
