import { describe, expect, it } from 'vitest';
import { batchCount, batchIndices, epochBatches } from './batches.js';
import { shuffledIndices } from './random.js';

const arrays = (it: Iterable<Int32Array>) => Array.from(it, (b) => Array.from(b));

describe('batchIndices', () => {
  it('cuts an order into consecutive batches, the last one smaller', () => {
    expect(arrays(batchIndices([5, 3, 9, 0, 1, 2, 8, 7, 6, 4], 4))).toEqual([
      [5, 3, 9, 0],
      [1, 2, 8, 7],
      [6, 4],
    ]);
  });

  it('drops the short last batch when asked', () => {
    expect(arrays(batchIndices([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 4, true))).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ]);
    expect(arrays(batchIndices([0, 1, 2, 3], 4, true))).toEqual([[0, 1, 2, 3]]);
  });

  it('rejects bad batch sizes', () => {
    expect(() => batchIndices([1], 0).next()).toThrow(/positive integer/);
    expect(() => batchCount(10, 1.5)).toThrow(/positive integer/);
  });
});

describe('batchCount and epochBatches', () => {
  it('counts batches with and without the last partial one', () => {
    expect(batchCount(10, 4)).toBe(3);
    expect(batchCount(10, 4, true)).toBe(2);
    expect(batchCount(8, 4)).toBe(2);
    expect(batchCount(0, 4)).toBe(0);
  });

  it('visits every example once per epoch, in the shuffledIndices order', () => {
    const batches = arrays(epochBatches(103, 10, { seed: 5, epoch: 2 }));
    expect(batches.length).toBe(11);
    expect(batches.flat()).toEqual(Array.from(shuffledIndices(103, 5, 2)));
    expect(
      batches
        .flat()
        .slice()
        .sort((a, b) => a - b),
    ).toEqual(Array.from({ length: 103 }, (_, i) => i));
  });

  it('keeps the natural order without shuffle', () => {
    expect(arrays(epochBatches(5, 2, { shuffle: false }))).toEqual([[0, 1], [2, 3], [4]]);
  });
});
