import { describe, expect, it } from 'vitest';
import { budgetStats } from './budget.js';
import { encodeLayerCodes } from './codes.js';
import { fullStorageBits, minStorageBits, reachableCodeCount, storageBits } from './storage.js';

describe('storage: bits on disk of a layer (packed format v1 indices)', () => {
  it('counts the codes signed digits reach at the selected positions', () => {
    expect(reachableCodeCount([], 8)).toBe(1); // the code 0
    expect(reachableCodeCount([0], 8)).toBe(3); // -128, 0, 128
    expect(reachableCodeCount([0, 1], 8)).toBe(7); // contiguous: 2^(b+1) - 1
    expect(reachableCodeCount([0, 2], 8)).toBe(9); // spread: 3^b (+-128 +-32)
    expect(reachableCodeCount([1, 2, 3], 8)).toBe(15);
    expect(reachableCodeCount([0, 2, 4, 6], 8)).toBe(81);
    expect(reachableCodeCount([0, 1, 2, 3, 4, 5, 6, 7], 8)).toBe(511);
    // brute force over every digit assignment for a few position sets
    for (const pos of [
      [0, 3],
      [1, 2, 5],
      [0, 1, 3, 4],
      [2, 7],
    ]) {
      const seen = new Set<number>();
      for (let k = 0; k < 3 ** pos.length; k++) {
        let v = 0;
        let r = k;
        for (const i of pos) {
          v += ((r % 3) - 1) * 2 ** (7 - i);
          r = Math.floor(r / 3);
        }
        seen.add(v);
      }
      expect(reachableCodeCount(pos, 8)).toBe(seen.size);
    }
    expect(() => reachableCodeCount([2, 1], 8)).toThrow(/strictly ascending/);
    expect(() => reachableCodeCount([8], 8)).toThrow(/0\.\.7/);
  });

  it('storageBits = ceil(log2(min(count, reachable codes))): b positions need up to b + 1 bits', () => {
    expect(storageBits([], 8, 1000)).toBe(0);
    expect(storageBits([0], 8, 1000)).toBe(2); // a 1-bit layer is ternary
    expect(storageBits([0, 1], 8, 1000)).toBe(3);
    expect(storageBits([0, 2], 8, 1000)).toBe(4);
    expect(storageBits([0, 1, 2], 8, 4)).toBe(2); // 4 weights use at most 4 codes
    expect(fullStorageBits(8, 1000)).toBe(9);
    expect(minStorageBits(2, 8, 1000)).toBe(3);
    expect(() => storageBits([0], 8, 0)).toThrow(/positive integer/);
  });

  it('is the width the v1 encoder uses when a layer uses every reachable code', () => {
    // every code of positions {0, 2} of N = 4 (place values 8 and 2), each used once
    const codes = [-10, -8, -6, -2, 0, 2, 6, 8, 10];
    const enc = encodeLayerCodes(codes);
    expect(enc.levels.length).toBe(reachableCodeCount([0, 2], 4));
    expect(enc.width).toBe(storageBits([0, 2], 4, codes.length));
    // and never less than what the encoder needs for any codes at those positions
    expect(encodeLayerCodes([8, 0, -8, 8]).width).toBeLessThanOrEqual(storageBits([0], 4, 4));
  });

  it('budget mode "storage": R = sum |W| s_l / sum |W| s_l(N), target in bits on disk', () => {
    const layers = [
      { name: 'a', maxBits: 8, bits: 2, params: 1000, positions: [0, 1] }, // 3 bits on disk
      { name: 'b', maxBits: 8, bits: 1, params: 9000, positions: [0] }, // 2 bits on disk
    ];
    const s = budgetStats(layers, { mode: 'storage', targetBits: 2 });
    // all 8 positions: 511 codes, 9 bits
    expect(s.ratio).toBeCloseTo((1000 * 3 + 9000 * 2) / (10000 * 9), 12);
    expect(s.targetRatio).toBeCloseTo(2 / 9, 12);
    expect(s.reachedBits).toBeCloseTo(2.1, 12);
    expect(s.avgBitsStorage).toBeCloseTo(2.1, 12);
    expect(s.avgBitsParams).toBeCloseTo(1.1, 12); // the paper's count of the same layers
    // every mode reports the storage figure when positions are known
    expect(budgetStats(layers, { mode: 'slots', targetBits: 2 }).avgBitsStorage).toBeCloseTo(2.1);
    expect(() =>
      budgetStats([{ name: 'x', maxBits: 8, bits: 1, params: 9 }], {
        mode: 'storage',
        targetBits: 2,
      }),
    ).toThrow(/positions/);
    // storage starts at N + 1 bits, so a target up to 9 is valid at N = 8; a small layer's
    // count is capped by its weight count (100 weights use at most 100 codes: 7 bits)
    expect(budgetStats(layers, { mode: 'storage', targetBits: 9 }).targetRatio).toBe(1);
    const small = [
      { name: 's', maxBits: 8, bits: 8, params: 100, positions: [0, 1, 2, 3, 4, 5, 6, 7] },
    ];
    expect(budgetStats(small, { mode: 'storage', targetBits: 7 }).targetRatio).toBe(1);
  });
});
