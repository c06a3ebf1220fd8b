/**
 * Forward values and gradients of every differentiable @csq/core tensor function on fixed tiny
 * inputs, on whatever tfjs backend is active. Run once on cpu and once on webgpu and compare.
 * Browser-safe (bundled into the headless-chromium page): no Node or vitest imports.
 */
import {
  budgetPenaltyTensor,
  exactWeightTensor,
  pactClip,
  quantizeActivation,
  softWeightTensor,
} from '@csq/core';
import * as tf from '@tensorflow/tfjs';
import { uniformArray } from './rng.js';

/** Named flat arrays: forward values (`*.value`) and gradients (`*.d<input>`). */
export type OpResults = Record<string, number[]>;

function tensorOf(shape: number[], lo: number, hi: number, seed: number): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(uniformArray(size, lo, hi, seed), shape);
}

async function flat(t: tf.Tensor): Promise<number[]> {
  return Array.from(await t.data());
}

/** Runs every check on the active backend; all tensors are freed before it returns. */
export async function coreOpsResults(): Promise<OpResults> {
  const out: OpResults = {};
  const keep: Record<string, tf.Tensor> = {};
  const bits = 4;
  const kernel = [3, 3, 2, 2];
  tf.tidy(() => {
    const p = tensorOf([...kernel, bits], -2, 2, 11);
    const n = tensorOf([...kernel, bits], -2, 2, 12);
    const m = tensorOf([bits], -1, 1, 13);
    const scale = tf.scalar(0.7);
    const r = tensorOf(kernel, -1, 1, 14); // a fixed linear read-out makes the weights a scalar loss

    // spec 1 soft weight, continuous phase: value and d/dp, d/dn, d/dm, d/dscale
    const soft = (pp: tf.Tensor, nn: tf.Tensor, mm: tf.Tensor, ss: tf.Tensor) =>
      softWeightTensor({ p: pp, n: nn, m: mm, scale: ss, bits, beta: 1.7 });
    keep['soft.value'] = soft(p, n, m, scale);
    const gSoft = tf.grads((pp, nn, mm, ss) => tf.sum(tf.mul(soft(pp!, nn!, mm!, ss!), r)));
    const [dp, dn, dm, ds] = gSoft([p, n, m, scale]);
    Object.assign(keep, { 'soft.dp': dp, 'soft.dn': dn, 'soft.dm': dm, 'soft.dscale': ds });

    // spec 2 ticket phase: hard mask gates, no gradient to m
    const hard = (pp: tf.Tensor, nn: tf.Tensor, mm: tf.Tensor) =>
      softWeightTensor({ p: pp, n: nn, m: mm, scale, bits, beta: 23, hardMask: true });
    keep['hard.value'] = hard(p, n, m);
    const [hp, hn, hm] = tf.grads((pp, nn, mm) => tf.sum(tf.mul(hard(pp!, nn!, mm!), r)))([
      p,
      n,
      m,
    ]);
    Object.assign(keep, { 'hard.dp': hp, 'hard.dn': hn, 'hard.dm': hm });

    // spec 1 exact (Heaviside) weight
    keep['exact.value'] = exactWeightTensor({ p, n, m, scale, bits });

    // spec 3 regularizer over two layers of different widths
    const m1 = tensorOf([4], -1.5, 1.5, 21);
    const m2 = tensorOf([6], -1.5, 1.5, 22);
    const pen = (a: tf.Tensor, b: tf.Tensor) => budgetPenaltyTensor([a, b], [0.8, 1.2], 2.5, 0.03);
    keep['penalty.value'] = pen(m1, m2);
    const [dm1, dm2] = tf.grads((a, b) => pen(a!, b!))([m1, m2]);
    Object.assign(keep, { 'penalty.dm1': dm1, 'penalty.dm2': dm2 });

    // spec 4 max-scaled activation rounding (straight-through gradient)
    const x = tensorOf([2, 4, 4, 3], -1.5, 2, 31);
    const dy = tensorOf([2, 4, 4, 3], -1, 1, 32);
    keep['quant.value'] = quantizeActivation(x, 3);
    keep['quant.dx'] = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(quantizeActivation(xx, 3), dy)))(x);

    // spec 4 PACT clip: gradients to the input and to alpha
    const xp = tensorOf([2, 4, 4, 3], -1, 3, 41);
    const alpha = tf.scalar(1.5);
    keep['pact.value'] = pactClip(xp, alpha);
    const [pdx, pda] = tf.grads((xx, aa) => tf.sum(tf.mul(pactClip(xx!, aa!), dy)))([xp, alpha]);
    Object.assign(keep, { 'pact.dx': pdx, 'pact.dalpha': pda });

    for (const t of Object.values(keep)) tf.keep(t);
  });
  for (const [name, t] of Object.entries(keep)) {
    out[name] = await flat(t);
    t.dispose();
  }
  return out;
}
