/**
 * `CsqFusedBatchNormGrad`, csq's own kernel behind the FusedBatchNorm gradient on wasm
 * (gradients/fused-batch-norm-grad.ts has the formulas): one SIMD pass over x and dy
 * (kernels.wat `bn_backward`) writes dx and the per-channel sums, in float64 across blocks
 * (rows split across csq's kernel threads in the threaded build).
 * Inputs x, dy, mean, variance [ch], scale [ch] (optional); attrs varianceEpsilon; outputs
 * dx, dmean, dvariance, dscale, doffset.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { WasmKernelSpec } from '../kernel-spec.js';
import { RowSums } from '../wasm/row-parts.js';
import { f32View, ptr, Scratch, simdFor, type WasmBackendInternals } from '../wasm/simd.js';

type TensorInfo = tf.TensorInfo;

const fusedBatchNormGrad: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy, mean, variance, scale } = inputs as Record<string, TensorInfo>;
  const simd = simdFor(backend);
  if (simd == null) throw new Error('CsqFusedBatchNormGrad: the SIMD module is not available');
  const b = backend as WasmBackendInternals;
  const eps = (attrs as { varianceEpsilon: number }).varianceEpsilon;
  const ch = x!.shape[x!.shape.length - 1]!;
  const rows = x!.shape.reduce((p, q) => p * q, 1) / ch;
  const dx = b.makeOutput(x!.shape, 'float32');
  const grads = [0, 1, 2, 3].map(() => b.makeOutput([ch], 'float32'));
  const scratch = new Scratch(b);
  try {
    const kP = scratch.alloc(ch * 4);
    // threads split the rows at multiples of 64 (row-parts.ts): dx is bit-exact, the sums
    // differ from one thread only in the order of their float64 additions
    const sums = new RowSums(b, scratch, rows, ch);
    const v = f32View(b, variance!);
    const s = scale == null ? null : f32View(b, scale);
    const inv = new Float64Array(ch);
    const k = scratch.f32(kP, ch);
    for (let c = 0; c < ch; c++) {
      inv[c] = 1 / Math.sqrt(v[c]! + eps);
      k[c] = (s == null ? 1 : s[c]!) * inv[c]!;
    }
    const rowBytes = ch * 4;
    const [xP, dyP, dxP, meanP] = [ptr(b, x!), ptr(b, dy!), ptr(b, dx), ptr(b, mean!)];
    const [sumDy, sumDyXm] = sums.run(simd, 'bn_backward', (r0, r1, acc1, acc2, tot1, tot2) => {
      const o = r0 * rowBytes;
      return [xP + o, dyP + o, dxP + o, r1 - r0, ch, meanP, kP, acc1, acc2, tot1, tot2];
    });
    const [dMean, dVariance, dScale, dOffset] = grads.map((t) => f32View(b, t)) as Float32Array[];
    for (let c = 0; c < ch; c++) {
      const sc = s == null ? 1 : s[c]!;
      const i = inv[c]!;
      dMean![c] = -sc * i * sumDy[c]!;
      dVariance![c] = -0.5 * sc * i * i * i * sumDyXm[c]!;
      dScale![c] = i * sumDyXm[c]!;
      dOffset![c] = sumDy[c]!;
    }
  } finally {
    scratch.free();
  }
  return [dx, ...grads];
};

/** Registration of `CsqFusedBatchNormGrad` (csq's own kernel name). */
export const fusedBatchNormGradSpec: WasmKernelSpec = {
  kernelName: 'CsqFusedBatchNormGrad',
  reason: 'fused',
  make: () => fusedBatchNormGrad,
};
