import type { BudgetReport } from '@csq/budget';
import { buildSummary as cliSummary, formatSummary } from '@csq/cli';
import { describe, expect, it } from 'vitest';
import { buildSummary, summaryRows } from './summary.js';

const report: BudgetReport = {
  mode: 'slots',
  ratio: 0.25,
  targetRatio: 0.25,
  coefficient: 0,
  avgBitsSlots: 2,
  avgBitsParams: (144 * 2 + 4608 + 18432 + 640 * 4) / 23824,
  sizeBits: 144 * 2 + 4608 + 18432 + 640 * 4,
  compressionRatio: 32 / ((144 * 2 + 4608 + 18432 + 640 * 4) / 23824),
  bops: 0,
  params: 23824,
  targetBits: 2,
  lambda: 0.05,
  enforce: 'trim',
  reachedBits: 2,
  phase: 'exact',
  layers: [
    {
      name: 'conv1',
      bits: 2,
      maxBits: 8,
      params: 144,
      actBits: 0,
      positions: [0, 1],
      storageBits: 3,
      bounds: { minBits: 1, maxBits: 8 },
    },
    {
      name: 'conv2',
      bits: 1,
      maxBits: 8,
      params: 4608,
      actBits: 0,
      positions: [0],
      storageBits: 2,
      bounds: { minBits: 1, maxBits: 8 },
    },
    {
      name: 'conv3',
      bits: 1,
      maxBits: 8,
      params: 18432,
      actBits: 0,
      positions: [0],
      storageBits: 2,
      bounds: { minBits: 1, maxBits: 8 },
    },
    {
      name: 'dense',
      bits: 4,
      maxBits: 8,
      params: 640,
      actBits: 0,
      positions: [0, 1, 2, 3],
      storageBits: 5,
      bounds: { minBits: 1, maxBits: 8 },
    },
  ],
};

describe("the page's summary", () => {
  it("has csq train's numbers for the same run (the README's quickstart table)", () => {
    const args = {
      backend: 'wasm',
      epochs: 8,
      softAccuracy: 0.979,
      exactAccuracy: 0.9665,
      report,
      floatParams: 24282,
      wallSeconds: 12,
      bits: 8,
      finalBeta: 200,
    };
    const page = buildSummary(args);
    const cli = cliSummary({ ...args, recipe: 'playground', floatAccuracy: null, actBits: 0 });
    const { actBits: _, ...cliFields } = cli;
    expect(page).toEqual(cliFields);
    // the rows the page shows are the lines csq train prints
    const printed = formatSummary(cli);
    for (const [label, value] of summaryRows(page)) {
      expect(printed).toContain(`${label.padEnd(20)}${value}`);
    }
    expect(printed).toContain('4.9 KiB exact model vs 94.9 KiB float32');
  });
});
