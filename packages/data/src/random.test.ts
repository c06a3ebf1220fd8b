import { rng } from '@csq/test-utils';
import { describe, expect, it } from 'vitest';
import { mixSeed, randomInt, seededRandom, shuffledIndices } from './random.js';

describe('seededRandom', () => {
  it('is mulberry32: matches the independent test-utils generator draw for draw', () => {
    const ours = seededRandom(12345);
    const reference = rng(12345);
    for (let i = 0; i < 1000; i++) expect(ours()).toBe(reference());
  });

  it('gives uniforms in [0, 1) with mean about 1/2', () => {
    const r = seededRandom(7);
    let sum = 0;
    for (let i = 0; i < 20000; i++) {
      const x = r();
      expect(x >= 0 && x < 1).toBe(true);
      sum += x;
    }
    expect(Math.abs(sum / 20000 - 0.5)).toBeLessThan(0.01);
  });

  it('randomInt stays in range and hits every value', () => {
    const r = seededRandom(3);
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const k = randomInt(r, 9);
      expect(Number.isInteger(k) && k >= 0 && k < 9).toBe(true);
      seen.add(k);
    }
    expect(seen.size).toBe(9);
    expect(randomInt(() => 0.9999999999999999, 5)).toBe(4);
  });
});

describe('mixSeed', () => {
  it('is deterministic and separates nearby tuples', () => {
    expect(mixSeed(1, 2)).toBe(mixSeed(1, 2));
    const values = new Set<number>();
    for (let a = 0; a < 30; a++) for (let b = 0; b < 30; b++) values.add(mixSeed(a, b));
    expect(values.size).toBe(900);
    expect(mixSeed(1, 2)).not.toBe(mixSeed(2, 1));
    expect(mixSeed(2 ** 32 + 5)).not.toBe(mixSeed(5));
  });
});

describe('shuffledIndices', () => {
  it('is a permutation that depends only on (count, seed, epoch)', () => {
    const a = shuffledIndices(1000, 42, 3);
    expect(Array.from(a).sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(shuffledIndices(1000, 42, 3))).toEqual(Array.from(a));
    expect(Array.from(shuffledIndices(1000, 42, 4))).not.toEqual(Array.from(a));
    expect(Array.from(shuffledIndices(1000, 43, 3))).not.toEqual(Array.from(a));
  });

  it('handles 0 and 1 and rejects bad counts', () => {
    expect(shuffledIndices(0, 1).length).toBe(0);
    expect(Array.from(shuffledIndices(1, 1))).toEqual([0]);
    expect(() => shuffledIndices(-1, 0)).toThrow(/non-negative integer/);
    expect(() => shuffledIndices(2.5, 0)).toThrow(/non-negative integer/);
  });

  it('puts each element at each position about equally often (chi-square)', () => {
    const n = 5;
    const trials = 5000;
    const counts = Array.from({ length: n }, () => new Array<number>(n).fill(0));
    for (let e = 0; e < trials; e++) {
      const order = shuffledIndices(n, 9, e);
      for (let pos = 0; pos < n; pos++) counts[order[pos]!]![pos]! += 1;
    }
    const expected = trials / n;
    let chi2 = 0;
    for (const row of counts) for (const c of row) chi2 += (c - expected) ** 2 / expected;
    // 16 degrees of freedom (25 cells, 9 constraints): P(chi2 > 40) < 0.001
    expect(chi2).toBeLessThan(40);
  });
});
