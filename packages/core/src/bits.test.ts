import { expectClose, uniform } from '@csq/test-utils';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bitPlaneWeights,
  exactWeight,
  initBitPlaneLogits,
  initBitPlanes,
  initMask,
  quantizeUniform,
  roundHalfEven,
  sigmoid,
  softWeight,
} from './bits.js';
import { CsqError } from './errors.js';

describe('spec 1 constants and helpers', () => {
  it('bit weights e_i = 2^(N-1-i)/(2^N-1)', () => {
    expectClose(bitPlaneWeights(3), [4 / 7, 2 / 7, 1 / 7], 1e-15);
    expectClose(bitPlaneWeights(1), [1], 1e-15);
    const e8 = bitPlaneWeights(8);
    expect(e8.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
    expect(e8[0]).toBeCloseTo(128 / 255, 15);
  });

  it('rounds half to even like torch.round', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 1.4999, 2.6].map(roundHalfEven)).toEqual([
      0, 2, 2, -0, -2, -2, 1, 3,
    ]);
  });

  it('rejects bad bit widths with a clear error', () => {
    expect(() => initBitPlanes([1], 0)).toThrow(/bits must be an integer from 1 to 16/);
    expect(() => initBitPlanes([1], 2.5)).toThrow(CsqError);
    expect(() => initBitPlanes([Number.NaN], 2)).toThrow(/finite weights/);
  });
});

describe('spec 1 initialisation', () => {
  it('hand-computed digits, MSB first, bit axis last', () => {
    // s = 1, 2^3-1 = 7: 0.5 -> round(3.5) = 4 (half-even) = 100; -1 -> q- = 7 = 111;
    // 0.25 -> round(1.75) = 2 = 010; 0 -> 000.
    const { p, n, scale } = initBitPlanes([0.5, -1, 0.25, 0], 3);
    expect(scale).toBe(1);
    expect(Array.from(p)).toEqual([1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
    expect(Array.from(n)).toEqual([0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
  });

  it('scale is max|w| and an all-zero layer stays zero', () => {
    expect(initBitPlanes([0.1, -0.3, 0.2], 4).scale).toBeCloseTo(0.3, 7);
    const z = initBitPlanes([0, 0], 2);
    expect(z.scale).toBe(0);
    expect(Array.from(z.p)).toEqual([0, 0, 0, 0]);
  });

  it('mask logits start at s0', () => {
    expect(Array.from(initMask(3))).toEqual([0, 0, 0]);
    expect(Array.from(initMask(2, -0.5))).toEqual([-0.5, -0.5]);
  });

  it('property: exactWeight(initBitPlanes(w)) with every bit selected is the N-bit quantisation of w', () => {
    fc.assert(
      fc.property(
        fc.array(
          // normal floats: a denormal scale has a step that float32 cannot hold
          fc
            .float({ min: -4, max: 4, noNaN: true, noDefaultInfinity: true })
            .map((x) => (Math.abs(x) < 1e-30 ? 0 : x)),
          {
            minLength: 1,
            maxLength: 40,
          },
        ),
        fc.integer({ min: 1, max: 10 }),
        (ws, bits) => {
          const w = Float32Array.from(ws);
          const { p, n, scale } = initBitPlanes(w, bits);
          for (const v of [...p, ...n]) if (v !== 0 && v !== 1) return false;
          const exact = exactWeight({ p, n, m: new Float32Array(bits).fill(1), scale, bits });
          const ref = quantizeUniform(w, bits);
          expectClose(exact, ref, { rtol: 1e-6, atol: 1e-6 * scale });
          // and the quantisation error is at most half a step
          for (let k = 0; k < w.length; k++) {
            expect(Math.abs(exact[k]! - w[k]!)).toBeLessThanOrEqual(
              (0.5 * scale) / (2 ** bits - 1) + 1e-6 * scale,
            );
          }
          return true;
        },
      ),
      { numRuns: 200 },
    );
  });

  it('conversion init (logits +-a) gives the quantised weight exactly and softly as beta grows', () => {
    const w = uniform(50, -1, 1, 7);
    const bits = 6;
    const conv = initBitPlaneLogits(w, bits, 4);
    expect(Array.from(conv.m)).toEqual(new Array(bits).fill(4));
    for (const v of conv.p) expect(Math.abs(v)).toBe(4);
    const ref = quantizeUniform(w, bits);
    expectClose(exactWeight({ ...conv, bits }), ref, { rtol: 1e-6, atol: 1e-7 });
    const errAt = (beta: number) => {
      const soft = softWeight({ ...conv, bits, beta });
      return Math.max(...Array.from(soft, (v, k) => Math.abs(v - ref[k]!)));
    };
    // every gate is sigma(4 beta); error shrinks monotonically with beta
    expect(errAt(1)).toBeGreaterThan(errAt(2));
    expect(errAt(5)).toBeLessThan(1e-6 * 50);
  });
});

describe('spec 1 weight formulas (typed-array reference)', () => {
  it('soft weight, hand-computed', () => {
    // N = 2, one weight: p = [1, 0], n = [0, 0], m = [0, 0], beta = 1, s = 3.
    // e = [2/3, 1/3]; gates 0.5; d0 = sigma(1) - 0.5; d1 = 0 -> W = 3 * 2/3 * 0.5 * (sigma(1) - 0.5)
    const w = softWeight({ p: [1, 0], n: [0, 0], m: [0, 0], scale: 3, beta: 1, bits: 2 });
    expectClose(w, [1 / (1 + Math.exp(-1)) - 0.5], 1e-7);
    // beta = 2, m = [1, -1]: gates sigma(2), sigma(-2); p = [1, 1], n = [0, 1]
    // W = s (e0 g0 (sigma(2) - 0.5) + e1 g1 (sigma(2) - sigma(2))) = 3 * 2/3 * sigma(2) (sigma(2) - 0.5)
    const s2 = sigmoid(2);
    const w2 = softWeight({ p: [1, 1], n: [0, 1], m: [1, -1], scale: 3, beta: 2, bits: 2 });
    expectClose(w2, [2 * s2 * (s2 - 0.5)], 1e-7);
  });

  it("the authors' init at beta = 1 gives 0.5 (sigma(1) - 1/2) = 0.1155 x the quantised weight", () => {
    const w = uniform(64, -2, 2, 3);
    const bits = 8;
    const { p, n, scale } = initBitPlanes(w, bits);
    const soft = softWeight({ p, n, m: initMask(bits), scale, beta: 1, bits });
    const ratio = 0.5 * (sigmoid(1) - 0.5);
    expect(ratio).toBeCloseTo(0.1155, 4);
    const q = quantizeUniform(w, bits);
    expectClose(
      soft,
      Array.from(q, (v) => v * ratio),
      { rtol: 1e-6, atol: 1e-7 },
    );
    // and the exact weight of that init is 0, since H(0) = 0 for every mask logit
    expect(
      Array.from(exactWeight({ p, n, m: initMask(bits), scale, bits })).every((v) => v === 0),
    ).toBe(true);
  });

  it('hard mask (ticket phase) gates with H(m)', () => {
    const s3 = sigmoid(3);
    const w = softWeight({
      p: [1, 1],
      n: [0, 0],
      m: [2, -2],
      scale: 1,
      beta: 3,
      bits: 2,
      hardMask: true,
    });
    // only bit 0 (e = 2/3) survives: 2/3 (sigma(3) - 0.5)
    expectClose(w, [(2 / 3) * (s3 - 0.5)], 1e-7);
  });

  it('exact weight, hand-computed (signed digits, unselected bits and H(0) = 0)', () => {
    const args = { p: [1, 0, 0, 1], n: [0, 1, 1, 0], scale: 3, bits: 2 };
    expectClose(exactWeight({ ...args, m: [1, 1] }), [1, -1], 1e-7); // 3 (2/3 - 1/3), 3 (-2/3 + 1/3)
    expectClose(exactWeight({ ...args, m: [1, -1] }), [2, -2], 1e-7);
    expectClose(exactWeight({ ...args, m: [0, 5] }), [-1, 1], 1e-7);
    // planes are logits: H(p) = p > 0
    expectClose(
      exactWeight({ p: [0.3, -2], n: [-1, 0], m: [1, 1], scale: 7, bits: 2 }),
      [14 / 3],
      1e-6,
    );
  });

  it('rejects mismatched shapes', () => {
    expect(() => exactWeight({ p: [1, 0, 1], n: [0, 0, 0], m: [1, 1], scale: 1, bits: 2 })).toThrow(
      /multiple of bits/,
    );
    expect(() => softWeight({ p: [1, 0], n: [0, 0], m: [1], scale: 1, beta: 1, bits: 2 })).toThrow(
      /one logit per bit/,
    );
    expect(() =>
      softWeight({ p: [1, 0], n: [0, 0], m: [1, 1], scale: 1, beta: 0, bits: 2 }),
    ).toThrow(/beta/);
  });
});
