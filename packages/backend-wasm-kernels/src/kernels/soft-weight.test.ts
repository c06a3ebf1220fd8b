import { hasFusedSoftWeight, softWeightTensor } from '@csq/core';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import '../index.js';
import { useBackend } from '@csq/test-utils';
import { expectRelClose, rand, valuesOn } from '../../test/compare.js';
import { registerWasmTrainingKernels, useStockWasmKernels } from '../register.js';

afterAll(() => useBackend('cpu'));

/**
 * The spec 1 soft weight and its gradients in p, n, m and s: on cpu tfjs's composed ops, on
 * wasm the fused CsqSoftWeight / CsqSoftWeightGrad kernels (N a multiple of 4).
 */
function softWeightAndGrads(
  kernel: number[],
  bits: number,
  beta: number,
  seed: number,
  hard = false,
) {
  return () => {
    const planes = [...kernel, bits];
    const p = tf.mul(rand(planes, seed), 1.5);
    const n = tf.mul(rand(planes, seed + 1), 1.5);
    const m = rand([bits], seed + 2);
    const s = tf.scalar(0.7);
    const weights = rand(kernel, seed + 3); // dw: every weight weighted differently
    const f = (pp: tf.Tensor, nn: tf.Tensor, mm: tf.Tensor, ss: tf.Tensor) =>
      softWeightTensor({ p: pp, n: nn, m: mm, scale: ss, bits, beta, hardMask: hard });
    const w = f(p, n, m, s);
    const { grads } = tf.valueAndGrads((pp, nn, mm, ss) =>
      tf.sum(tf.mul(f(pp!, nn!, mm!, ss!), weights)),
    )([p, n, m, s]);
    return [w, ...grads];
  };
}

const CASES: { kernel: number[]; bits: number; beta: number; hard?: boolean }[] = [
  { kernel: [3, 3, 4, 8], bits: 8, beta: 1 },
  { kernel: [3, 3, 4, 8], bits: 8, beta: 14.1 },
  { kernel: [20, 10], bits: 4, beta: 3.7 },
  { kernel: [3, 3, 64, 64], bits: 8, beta: 2 }, // 36,864 rows: split over the kernel threads
  { kernel: [5, 7], bits: 12, beta: 53 },
  { kernel: [3, 3, 4, 8], bits: 8, beta: 200, hard: true }, // ticket phase: gate H(m)
];

describe('CsqSoftWeight and its gradient match the composed soft weight on cpu', () => {
  for (const [i, { kernel, bits, beta, hard }] of CASES.entries()) {
    it(`kernel [${kernel}], N = ${bits}, beta ${beta}${hard ? ', hard masks' : ''}: w, dp, dn, dm, ds`, async () => {
      const f = softWeightAndGrads(kernel, bits, beta, 10 * i + 1, hard);
      const expected = await valuesOn('cpu', f);
      await useBackend('wasm');
      expect(hasFusedSoftWeight(bits)).toBe(true);
      const actual = await valuesOn('wasm', f);
      expect(actual.length).toBe(5);
      for (let k = 0; k < expected.length; k++) expectRelClose(actual[k]!, expected[k]!, 1e-5);
    });
  }

  it('N not a multiple of 4 takes the composed path on wasm, with the same numbers', async () => {
    const f = softWeightAndGrads([4, 6], 6, 5, 99);
    await useBackend('wasm');
    expect(hasFusedSoftWeight(6)).toBe(false);
    const expected = await valuesOn('cpu', f);
    const actual = await valuesOn('wasm', f);
    for (let k = 0; k < expected.length; k++) expectRelClose(actual[k]!, expected[k]!, 1e-5);
  });

  it('is removed on the stock path and registered again after', async () => {
    await useBackend('wasm');
    useStockWasmKernels();
    expect(hasFusedSoftWeight(8)).toBe(false);
    registerWasmTrainingKernels();
    expect(hasFusedSoftWeight(8)).toBe(true);
  });
});
