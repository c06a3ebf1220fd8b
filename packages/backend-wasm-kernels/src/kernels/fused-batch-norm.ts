/**
 * `FusedBatchNorm` forward for the wasm backend: y = (x - mean) k + offset with
 * k = scale / sqrt(variance + eps), one SIMD pass (kernels.wat `bn_forward`) for per-channel
 * statistics (rows split across csq's kernel threads in the threaded build); claims csq's fused gradient (gradients/fused-batch-norm-grad.ts) on each run.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { claimGradient } from '../gradients/claim.js';
import { fusedBatchNormGradConfig } from '../gradients/fused-batch-norm-grad.js';
import type { WasmKernelSpec } from '../kernel-spec.js';
import { bnForwardRows } from '../wasm/row-parts.js';
import { f32View, ptr, Scratch, simdFor, type WasmBackendInternals } from '../wasm/simd.js';

type TensorInfo = tf.TensorInfo;

function size(t: TensorInfo): number {
  return t.shape.reduce((a, b) => a * b, 1);
}

/** True when `t` holds one float32 value per channel (shape [ch], or [1, ..., 1, ch]). */
export function perChannel(t: TensorInfo | undefined, ch: number): boolean {
  return (
    t == null ||
    (t.dtype === 'float32' && size(t) === ch && (t.shape[t.shape.length - 1] ?? 1) === ch)
  );
}

function batchNormSimd(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    claimGradient(fusedBatchNormGradConfig);
    const { inputs, backend, attrs } = args;
    const { x, mean, variance, offset, scale } = inputs as Record<string, TensorInfo | undefined>;
    const simd = simdFor(backend);
    const ch = x?.shape[x.shape.length - 1] ?? 0;
    if (
      simd == null ||
      x == null ||
      mean == null ||
      variance == null ||
      x.dtype !== 'float32' ||
      ch === 0 ||
      !perChannel(mean, ch) ||
      !perChannel(variance, ch) ||
      !perChannel(offset, ch) ||
      !perChannel(scale, ch)
    ) {
      return original(args);
    }
    const b = backend as WasmBackendInternals;
    const eps = (attrs as { varianceEpsilon: number }).varianceEpsilon;
    const out = b.makeOutput(x.shape, 'float32');
    const scratch = new Scratch(b);
    try {
      const kP = scratch.alloc(ch * 4);
      const betaP = scratch.alloc(ch * 4);
      const k = scratch.f32(kP, ch);
      const beta = scratch.f32(betaP, ch);
      const v = f32View(b, variance);
      const s = scale == null ? null : f32View(b, scale);
      const o = offset == null ? null : f32View(b, offset);
      for (let c = 0; c < ch; c++) {
        k[c] = (s == null ? 1 : s[c]!) / Math.sqrt(v[c]! + eps);
        beta[c] = o == null ? 0 : o[c]!;
      }
      // threads split the rows: disjoint parts of y (bit-exact)
      const [xP, yP, meanP] = [ptr(b, x), ptr(b, out), ptr(b, mean)];
      bnForwardRows(b, simd, {
        x: xP,
        y: yP,
        rows: size(x) / ch,
        ch,
        mean: meanP,
        k: kP,
        beta: betaP,
      });
    } finally {
      scratch.free();
    }
    return out;
  };
}

/** Registration of `FusedBatchNorm` (wraps wasm's own for the shapes it does not cover). */
export const fusedBatchNormSpec: WasmKernelSpec = {
  kernelName: 'FusedBatchNorm',
  reason: 'faster',
  make: (original) => original && batchNormSimd(original),
};
