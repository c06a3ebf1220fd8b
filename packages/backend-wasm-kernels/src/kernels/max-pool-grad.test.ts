import { rng, useBackend } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, it } from 'vitest';
import '../index.js';
import { expectRelClose, rand, valuesOn } from '../../test/compare.js';

afterAll(() => useBackend('cpu'));

// Random shapes, windows, strides and paddings; channels 1 to 9 (the 4-channel SIMD steps and
// the remainder). Rounded inputs make ties common: the first maximum must win, as on cpu.
// (Numeric paddings are left out: tfjs-backend-wasm 4.22's own MaxPool forward corrupts its
// heap with them.)
const CASES = Array.from({ length: 12 }, (_, i) => {
  const u = rng(500 + i);
  const r = (lo: number, hi: number) => lo + Math.floor(u() * (hi - lo + 1));
  const k: [number, number] = [r(1, 3), r(1, 3)];
  const x = [r(1, 3), k[0] + r(0, 7), k[1] + r(0, 7), r(1, 9)];
  return {
    x,
    k,
    s: [r(1, 3), r(1, 3)] as [number, number],
    pad: i % 3 === 0 ? ('valid' as const) : ('same' as const),
    ties: i % 2 === 0,
  };
});

describe('csq SIMD MaxPoolGrad matches the cpu backend', () => {
  for (const c of CASES) {
    it(`x [${c.x}] window ${c.k} strides ${c.s} pad ${c.pad}${c.ties ? ' with ties' : ''}`, async () => {
      const run = () => {
        const raw = rand(c.x, 3);
        const x = c.ties ? tf.round(tf.mul(raw, 2)) : raw;
        const f = (xx: tf.Tensor) => tf.maxPool(xx as tf.Tensor4D, c.k, c.s, c.pad);
        const y = f(x);
        const dy = rand(y.shape, 4);
        const dx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(f(xx), dy)))(x);
        return [y, dx];
      };
      const expected = await valuesOn('cpu', run);
      const actual = await valuesOn('wasm', run);
      expectRelClose(actual[0]!, expected[0]!, 1e-6);
      expectRelClose(actual[1]!, expected[1]!, 1e-6);
    });
  }
});

// The one-pass 2x2 stride-2 path: covered and odd sizes (a row / column no window reaches),
// 'valid' and 'same' (no padding on even sizes), ties, and -Infinity / NaN entries (never a
// maximum: a window of only those passes no gradient, as on cpu).
const POOL2 = [
  { x: [2, 8, 6, 4], pad: 'valid' as const },
  { x: [3, 7, 9, 8], pad: 'valid' as const },
  { x: [1, 6, 4, 16], pad: 'same' as const },
  { x: [2, 5, 5, 12], pad: 'valid' as const },
];

describe('csq MaxPoolGrad for 2x2 stride-2 pools matches the cpu backend', () => {
  for (const c of POOL2) {
    for (const special of [false, true]) {
      it(`x [${c.x}] pad ${c.pad}${special ? ' with ties, -Infinity and NaN' : ''}`, async () => {
        const run = () => {
          const raw = rand(c.x, 7);
          let x = special ? tf.round(tf.mul(raw, 1.5)) : raw;
          if (special) {
            // -1 -> -Infinity, 1 -> NaN (rounded values are -2 .. 2)
            x = tf.where(tf.equal(x, -1), tf.fill(c.x, -Infinity), x);
            x = tf.where(tf.equal(x, 1), tf.fill(c.x, Number.NaN), x);
          }
          const f = (xx: tf.Tensor) => tf.maxPool(xx as tf.Tensor4D, 2, 2, c.pad);
          const y = f(x);
          const dy = rand(y.shape, 8);
          const dx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(f(xx), dy)))(x);
          return [dx];
        };
        const expected = await valuesOn('cpu', run);
        const actual = await valuesOn('wasm', run);
        expectRelClose(actual[0]!, expected[0]!, 1e-6);
      });
    }
  }
});
