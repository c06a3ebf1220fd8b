/**
 * Spec 1 and 3 as differentiable tfjs-core tensor functions. They use only registered ops, so
 * they run (and differentiate) on any backend: cpu, wasm, webgl, webgpu, tfjs-node.
 */
import * as tf from '@tensorflow/tfjs-core';
import { bitPlaneWeights } from './bits.js';
import { straightThrough } from './custom-grad.js';
import { assertBits, CsqError } from './errors.js';

/**
 * Throws a clear error when tfjs has no gradients registered. tfjs-core alone registers none in
 * Node; importing `@tensorflow/tfjs` (or `@tensorflow/tfjs-node`) registers them all, as any tfjs
 * training code needs.
 */
export function assertGradientsRegistered(): void {
  if (!tf.getGradient('Sum') || !tf.getGradient('Sigmoid')) {
    throw new CsqError(
      'CSQ_NO_GRADIENTS',
      'tfjs has no gradients registered, so nothing can be trained. Import "@tensorflow/tfjs" ' +
        '(browser or Node) or "@tensorflow/tfjs-node" once in your program before training.',
    );
  }
}

/** Tensor arguments of the spec 1 weight formulas. */
export interface WeightTensors {
  /** Positive planes, shape [...kernelShape, bits]. */
  p: tf.Tensor;
  /** Negative planes, same shape as p. */
  n: tf.Tensor;
  /** Mask logits, shape [bits]. */
  m: tf.Tensor;
  /** Layer scale, a scalar (shape [] or [1]). */
  scale: tf.Tensor;
  bits: number;
}

function checkShapes({ p, n, m, scale, bits }: WeightTensors): number[] {
  assertBits(bits);
  const last = p.shape[p.rank - 1];
  if (p.rank < 1 || last !== bits || !tf.util.arraysEqual(p.shape, n.shape)) {
    throw new CsqError(
      'CSQ_BAD_SHAPE',
      `bit planes must share a shape ending in ${bits} (the bit axis); got p [${p.shape}] and n [${n.shape}].`,
    );
  }
  if (m.rank !== 1 || m.shape[0] !== bits) {
    throw new CsqError('CSQ_BAD_SHAPE', `mask logits must have shape [${bits}], got [${m.shape}].`);
  }
  if (scale.size !== 1) {
    throw new CsqError(
      'CSQ_BAD_SHAPE',
      `scale must hold one value (per-tensor scale), got shape [${scale.shape}].`,
    );
  }
  return p.shape.slice(0, -1);
}

/** Reduces planes [..., N] with per-bit coefficients c [N] and multiplies by the scale. */
function reduceBits(
  d: tf.Tensor,
  c: tf.Tensor,
  scale: tf.Tensor,
  kernelShape: number[],
  bits: number,
): tf.Tensor {
  const count = d.size / bits;
  const w = tf.matMul(tf.reshape(d, [count, bits]), tf.reshape(c, [bits, 1]));
  return tf.mul(tf.reshape(w, kernelShape), tf.reshape(scale, []));
}

/**
 * Spec 1 soft weight as a tensor: s * sum_i e_i sigma(beta m_i) (sigma(beta p_i) - sigma(beta n_i)),
 * shape = p.shape without the bit axis. Differentiable in p, n, m and scale. With `hardMask`
 * (ticket phase, spec 2) the gate is H(m_i), which passes no gradient to m.
 */
export function softWeightTensor(
  args: WeightTensors & { beta: number; hardMask?: boolean },
): tf.Tensor {
  const kernelShape = checkShapes(args);
  const { p, n, m, scale, bits, beta } = args;
  if (!(beta > 0) || !Number.isFinite(beta)) {
    throw new CsqError('CSQ_BAD_NUMBER', `beta must be a finite positive number, got ${beta}.`);
  }
  return tf.tidy(() => {
    const e = tf.tensor1d(Float32Array.from(bitPlaneWeights(bits)), 'float32');
    const gate = args.hardMask ? tf.step(m) : tf.sigmoid(tf.mul(m, beta));
    const c = tf.mul(e, gate);
    if (hasFusedSoftWeight(bits)) {
      // one fused kernel over the bit planes; c_i = s e_i gate_i through tfjs's own ops
      const w = fusedSoftWeight(p, n, tf.mul(c, tf.reshape(scale, [])), beta);
      return tf.reshape(w, kernelShape);
    }
    const d = tf.sub(tf.sigmoid(tf.mul(p, beta)), tf.sigmoid(tf.mul(n, beta)));
    return reduceBits(d, c, scale, kernelShape, bits);
  });
}

/**
 * Kernels that compute the soft weight's bit-plane sum in one pass when registered for the
 * active backend (@csq/backend-wasm-kernels registers them for wasm): forward inputs p, n
 * [K, N] and c [N], attr beta, outputs w [K] = sum_i c_i (sigma(beta p) - sigma(beta n)) and
 * sp = sigma(beta p), sn = sigma(beta n); gradient inputs dw, sp, sn, c, outputs dp, dn, dc.
 */
export const SOFT_WEIGHT_KERNELS = {
  forward: 'CsqSoftWeight',
  gradient: 'CsqSoftWeightGrad',
} as const;

/** True when `softWeightTensor` takes the fused kernels on the active backend for this N. */
export function hasFusedSoftWeight(bits: number): boolean {
  if (bits % 4 !== 0) return false;
  const b = tf.getBackend();
  return (
    tf.getKernel(SOFT_WEIGHT_KERNELS.forward, b) != null &&
    tf.getKernel(SOFT_WEIGHT_KERNELS.gradient, b) != null
  );
}

function fusedSoftWeight(p: tf.Tensor, n: tf.Tensor, c: tf.Tensor, beta: number): tf.Tensor {
  const attrs = { beta } as unknown as tf.NamedAttrMap;
  const op = tf.customGrad((pp, nn, cc, save) => {
    const inputs = { p: pp as tf.Tensor, n: nn as tf.Tensor, c: cc as tf.Tensor };
    const [w, sp, sn] = tf
      .engine()
      .runKernel(SOFT_WEIGHT_KERNELS.forward, inputs, attrs) as tf.Tensor[];
    (save as tf.GradSaveFunc)([sp!, sn!, inputs.c]);
    return {
      value: w!,
      gradFunc: (dw: tf.Tensor, saved: tf.Tensor[]) => {
        const [s1, s2, sc] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        return tf
          .engine()
          .runKernel(
            SOFT_WEIGHT_KERNELS.gradient,
            { dw, sp: s1, sn: s2, c: sc },
            attrs,
          ) as tf.Tensor[];
      },
    };
  });
  return (op as (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.Tensor)(p, n, c);
}

/**
 * Spec 1 exact (Heaviside) weight as a tensor: s * sum_i e_i H(m_i) (H(p_i) - H(n_i)), computed
 * as the integer code v = sum_i 2^(N-1-i) H(m_i) (H(p_i) - H(n_i)) (exact in float32) times the
 * float32 step s / (2^N - 1), the same rounding as `codesToWeights`, so an exported model
 * computes bit for bit what the in-memory exact model computes.
 */
export function exactWeightTensor(args: WeightTensors): tf.Tensor {
  const kernelShape = checkShapes(args);
  const { p, n, m, scale, bits } = args;
  return tf.tidy(() => {
    const places = tf.tensor1d(
      Float32Array.from({ length: bits }, (_, i) => 2 ** (bits - 1 - i)),
      'float32',
    );
    const c = tf.mul(places, tf.step(m));
    const d = tf.sub(tf.step(p), tf.step(n));
    const step = tf.div(tf.reshape(scale, [1]), 2 ** bits - 1);
    return reduceBits(d, c, step, kernelShape, bits);
  });
}

/**
 * Spec 3 regularizer term: coefficient * sum_l w_l sum_i sigma(beta m_{l,i}), a scalar.
 * `coefficient` is R - R_T (already multiplied by lambda if the caller wants), computed without
 * gradient; `weights` are the per-layer weights from `penaltyWeights`.
 */
export function budgetPenaltyTensor(
  masks: readonly tf.Tensor[],
  weights: ArrayLike<number>,
  beta: number,
  coefficient: number,
): tf.Scalar {
  if (masks.length !== weights.length) {
    throw new CsqError(
      'CSQ_BAD_SHAPE',
      `got ${masks.length} masks but ${weights.length} layer weights.`,
    );
  }
  return tf.tidy(() => {
    let total: tf.Tensor = tf.scalar(0);
    masks.forEach((m, l) => {
      total = tf.add(total, tf.mul(tf.sum(tf.sigmoid(tf.mul(m, beta))), weights[l]!));
    });
    return tf.mul(total, coefficient) as tf.Scalar;
  });
}

/**
 * Spec 5: the bias of a quantized dense layer, round-and-clip to N bits with a straight-through
 * gradient and its own scale: scale * sign(u) round(|clip(u, -1, 1)| (2^N - 1)) / (2^N - 1).
 * `u` is the bias divided by its scale (initially max|bias|). The gradient to u is identity.
 */
export function quantizeBiasTensor(u: tf.Tensor, scale: tf.Tensor, bits: number): tf.Tensor {
  assertBits(bits);
  const q = 2 ** bits - 1;
  const ste = straightThrough((x) => tf.div(tf.round(tf.mul(tf.clipByValue(x, -1, 1), q)), q));
  return tf.tidy(() => tf.mul(ste(u), tf.reshape(scale, [])));
}
