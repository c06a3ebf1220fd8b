import { describe, expect, it } from 'vitest';
import { representable, representableTest } from './format.js';

/** Every integer signed digits at `positions` make, by brute force over 3^b digit choices. */
function bruteForce(positions: number[], bits: number): Set<number> {
  let set = new Set([0]);
  for (const i of positions) {
    const next = new Set<number>();
    for (const v of set) for (const d of [-1, 0, 1]) next.add(v + d * 2 ** (bits - 1 - i));
    set = next;
  }
  return set;
}

describe('representable', () => {
  it('agrees with brute force for every position subset of 5 bits', () => {
    const bits = 5;
    for (let mask = 0; mask < 2 ** bits; mask++) {
      const positions = [...Array(bits).keys()].filter((i) => (mask >> (bits - 1 - i)) & 1);
      const want = bruteForce(positions, bits);
      for (let v = -(2 ** bits); v <= 2 ** bits; v++) {
        expect(representable(v, positions, bits), `v=${v} positions=${positions}`).toBe(
          want.has(v),
        );
      }
    }
  });

  it('handles 16 bits and non-integers', () => {
    const all = [...Array(16).keys()];
    expect(representable(2 ** 16 - 1, all, 16)).toBe(true);
    expect(representable(2 ** 16, all, 16)).toBe(false);
    expect(representable(0.5, all, 16)).toBe(false);
    expect(representable(3, [0, 15], 16)).toBe(false);
    expect(representable(2 ** 15 - 1, [0, 15], 16)).toBe(true);
  });
});

describe('representableTest', () => {
  it('agrees with representable for every position subset of 6 bits, and for 11 spread positions', () => {
    const bits = 6;
    for (let mask = 0; mask < 2 ** bits; mask++) {
      const positions = [...Array(bits).keys()].filter((i) => (mask >> (bits - 1 - i)) & 1);
      const test = representableTest(positions, bits);
      for (let v = -(2 ** bits); v <= 2 ** bits; v++) {
        expect(test(v), `v=${v} positions=${positions}`).toBe(representable(v, positions, bits));
      }
    }
    const spread = [0, 1, 3, 4, 6, 7, 9, 10, 12, 13, 15];
    const test = representableTest(spread, 16);
    for (let v = -70_000; v <= 70_000; v += 37) {
      expect(test(v), `v=${v}`).toBe(representable(v, spread, 16));
    }
    expect(representableTest([0, 1], 4)(1.5)).toBe(false);
  });
});
