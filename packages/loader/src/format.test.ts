import { describe, expect, it } from 'vitest';
import { representable } from './format.js';

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
