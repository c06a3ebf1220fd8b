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
