/**
 * `CsqSoftWeight` and `CsqSoftWeightGrad`: the CSQ soft weight (spec 1) as one SIMD pass over
 * the bit planes instead of ~20 composed kernels per layer and step (kernels.wat `soft_weight`,
 * `soft_weight_grad`). @csq/core's `softWeightTensor` takes this path when both are registered
 * for the backend and N is a multiple of 4; the caller computes the N coefficients
 * c_i = s e_i gate_i (cheap, and their gradient to s and m flows through tfjs's own ops):
 *   w[k]  = sum_i c_i (sigma(beta p[k, i]) - sigma(beta n[k, i]))          inputs p, n [K, N], c [N]
 *   dp    = dw c beta sigma'(beta p),  dn = -dw c beta sigma'(beta n),  dc = sum_k dw (sp - sn)
 * Attrs: beta. The forward returns w [K] and sp = sigma(beta p), sn = sigma(beta n) [K, N]
 * (so the gradient computes no sigmoid again); the gradient (inputs dw, sp, sn, c) returns
 * dp, dn, dc.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { WasmKernelSpec } from '../kernel-spec.js';
import { runKernelParts } from '../wasm/pool.js';
import { RowSums, rowRanges } from '../wasm/row-parts.js';
import { f32View, ptr, Scratch, simdFor, type WasmBackendInternals } from '../wasm/simd.js';

type TensorInfo = tf.TensorInfo;

/** The kernels' names, which @csq/core looks up (a contract between the two packages). */
export const SOFT_WEIGHT = 'CsqSoftWeight';
export const SOFT_WEIGHT_GRAD = 'CsqSoftWeightGrad';

function planes(name: string, p: TensorInfo, n: TensorInfo, c: TensorInfo) {
  const bits = p.shape[p.shape.length - 1]!;
  if (bits % 4 !== 0 || c.shape.length !== 1 || c.shape[0] !== bits) {
    throw new Error(`${name}: needs p, n [K, N] with N a multiple of 4 and c [N]`);
  }
  if (n.shape.join() !== p.shape.join()) throw new Error(`${name}: p and n differ in shape`);
  return { bits, rows: p.shape.reduce((a, b) => a * b, 1) / bits };
}

const softWeight: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { p, n, c } = inputs as Record<string, TensorInfo>;
  const simd = simdFor(backend);
  if (simd == null) throw new Error(`${SOFT_WEIGHT}: the SIMD module is not available`);
  const b = backend as WasmBackendInternals;
  const { bits, rows } = planes(SOFT_WEIGHT, p!, n!, c!);
  const beta = (attrs as { beta: number }).beta;
  const w = b.makeOutput([rows], 'float32');
  const sp = b.makeOutput(p!.shape, 'float32');
  const sn = b.makeOutput(p!.shape, 'float32');
  const [pP, nP, cP, wP, spP, snP] = [p!, n!, c!, w, sp, sn].map((t) => ptr(b, t)) as number[];
  const rowBytes = bits * 4;
  // threads split the rows: disjoint parts of w (bit-exact on any number of threads)
  runKernelParts(
    b,
    simd,
    'soft_weight',
    rowRanges(b, rows, 2 * bits).map(([r0, r1]) => [
      pP! + r0 * rowBytes,
      nP! + r0 * rowBytes,
      cP!,
      wP! + 4 * r0,
      r1 - r0,
      bits,
      beta,
      spP! + r0 * rowBytes,
      snP! + r0 * rowBytes,
    ]),
  );
  return [w, sp, sn];
};

const softWeightGrad: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { dw, sp: p, sn: n, c } = inputs as Record<string, TensorInfo>;
  const simd = simdFor(backend);
  if (simd == null) throw new Error(`${SOFT_WEIGHT_GRAD}: the SIMD module is not available`);
  const b = backend as WasmBackendInternals;
  const { bits, rows } = planes(SOFT_WEIGHT_GRAD, p!, n!, c!);
  const beta = (attrs as { beta: number }).beta;
  const dp = b.makeOutput(p!.shape, 'float32');
  const dn = b.makeOutput(n!.shape, 'float32');
  const dc = b.makeOutput([bits], 'float32');
  const scratch = new Scratch(b);
  try {
    // threads split the rows at multiples of 64 (row-parts.ts): dp, dn disjoint (bit-exact),
    // dc's float64 totals added in part order
    const sums = new RowSums(b, scratch, rows, bits);
    const [pP, nP, cP, dwP, dpP, dnP] = [p!, n!, c!, dw!, dp, dn].map((t) => ptr(b, t));
    const rowBytes = bits * 4;
    const [tot] = sums.run(simd, 'soft_weight_grad', (r0, r1, acc, _acc2, t) => {
      const o = r0 * rowBytes;
      return [
        pP! + o,
        nP! + o,
        cP!,
        dwP! + 4 * r0,
        dpP! + o,
        dnP! + o,
        r1 - r0,
        bits,
        beta,
        acc,
        t,
      ];
    });
    f32View(b, dc).set(tot);
  } finally {
    scratch.free();
  }
  return [dp, dn, dc];
};

/** Registration of `CsqSoftWeight` (csq's own kernel name). */
export const softWeightSpec: WasmKernelSpec = {
  kernelName: SOFT_WEIGHT,
  reason: 'fused',
  make: () => softWeight,
};

/** Registration of `CsqSoftWeightGrad` (csq's own kernel name). */
export const softWeightGradSpec: WasmKernelSpec = {
  kernelName: SOFT_WEIGHT_GRAD,
  reason: 'fused',
  make: () => softWeightGrad,
};
