import { expectClose } from '@csq/test-utils';
import { describe, expect, it } from 'vitest';
import { type BudgetLayer, budgetStats, convMacs, denseMacs, penaltyWeights } from './budget.js';

// Two layers, N = 8: a small one at 8 bits and a big one at 2 bits.
const layers: BudgetLayer[] = [
  { name: 'a', maxBits: 8, bits: 8, params: 100, macs: 1000, actBits: 4 },
  { name: 'b', maxBits: 8, bits: 2, params: 900, macs: 3000 },
];

describe('spec 3 budget arithmetic', () => {
  it('slots: R = selected / total slots, average bits = N R', () => {
    const s = budgetStats(layers, { mode: 'slots', targetBits: 2 });
    expectClose(s.ratio, 10 / 16, 1e-12);
    expectClose(s.targetRatio, 2 / 8, 1e-12);
    expectClose(s.coefficient, 10 / 16 - 0.25, 1e-12);
    expectClose(s.avgBitsSlots, 5, 1e-12);
    expectClose(s.avgBitsSlots, 8 * s.ratio, 1e-12);
  });

  it('params: R = sum |W| b / sum |W| N, size and compression', () => {
    const s = budgetStats(layers, { mode: 'params', targetBits: 4 });
    // (100*8 + 900*2) / (1000*8) = 2600/8000
    expectClose(s.ratio, 2600 / 8000, 1e-12);
    expectClose(s.targetRatio, 0.5, 1e-12);
    expect(s.coefficient).toBeLessThan(0); // below target: grow bits
    expect(s.sizeBits).toBe(2600);
    expectClose(s.avgBitsParams, 2.6, 1e-12);
    expectClose(s.compressionRatio, 32 / 2.6, 1e-12);
    expect(s.params).toBe(1000);
  });

  it('bops: MACs x weight bits x activation bits (full precision counts 32)', () => {
    const s = budgetStats(layers, { mode: 'bops', targetBits: 2 });
    const bops = 1000 * 8 * 4 + 3000 * 2 * 32;
    expect(s.bops).toBe(bops);
    expectClose(s.ratio, bops / (1000 * 8 * 4 + 3000 * 8 * 32), 1e-12);
  });

  it('the coefficient changes sign across the target', () => {
    const at = (bits: number) =>
      budgetStats([{ name: 'x', maxBits: 8, bits, params: 10 }], { targetBits: 3 }).coefficient;
    expect(at(5)).toBeGreaterThan(0);
    expect(at(3)).toBe(0);
    expect(at(1)).toBeLessThan(0);
  });

  it('penalty weights: 1 per layer, or |W| / MACs x a normalised to mean 1', () => {
    expect(Array.from(penaltyWeights(layers, 'slots'))).toEqual([1, 1]);
    expectClose(penaltyWeights(layers, 'params'), [0.2, 1.8], 1e-12);
    const raw = [1000 * 4, 3000 * 32];
    const mean = (raw[0]! + raw[1]!) / 2;
    expectClose(penaltyWeights(layers, 'bops'), [raw[0]! / mean, raw[1]! / mean], 1e-12);
  });

  it('clear errors for impossible inputs', () => {
    expect(() => budgetStats([], { targetBits: 2 })).toThrow(/no quantized layers/);
    expect(() => budgetStats(layers, { targetBits: 9 })).toThrow(/above the starting precision/);
    expect(() =>
      budgetStats([{ name: 'x', maxBits: 8, bits: 2, params: 3 }], { mode: 'bops', targetBits: 2 }),
    ).toThrow(/no MAC count/);
    // @ts-expect-error: a wrong mode from an untyped config
    expect(() => budgetStats(layers, { mode: 'size', targetBits: 2 })).toThrow(
      /slots, params, bops/,
    );
    expect(() =>
      budgetStats([{ name: 'x', maxBits: 4, bits: 5, params: 3 }], { targetBits: 2 }),
    ).toThrow(/0\.\.4/);
  });

  it('MAC counts', () => {
    expect(
      convMacs({
        outHeight: 8,
        outWidth: 8,
        outChannels: 16,
        kernelHeight: 3,
        kernelWidth: 3,
        inChannels: 3,
      }),
    ).toBe(8 * 8 * 16 * 27);
    expect(
      convMacs({
        outHeight: 4,
        outWidth: 4,
        outChannels: 8,
        kernelHeight: 3,
        kernelWidth: 3,
        inChannels: 8,
        groups: 8,
      }),
    ).toBe(4 * 4 * 8 * 9);
    expect(denseMacs(64, 10)).toBe(640);
  });
});
