import { describe, expect, it } from 'vitest';
import { budgetStats } from './budget.js';
import { planTrim, type TrimLayer } from './trim.js';

// A: exact-selected {0, 2, 3}; B: {0, 1, 2}. Ascending logits among the selected:
// B2 (0.1), A3 (0.2), A2 (0.5), B1 (1), B0 (2), A0 (3).
const layers = (extra: Partial<Record<'A' | 'B', Partial<TrimLayer>>> = {}): TrimLayer[] => [
  {
    name: 'A',
    maxBits: 4,
    params: 100,
    macs: 1000,
    actBits: 4,
    logits: [3, -1, 0.5, 0.2],
    ...extra.A,
  },
  { name: 'B', maxBits: 4, params: 300, macs: 500, logits: [2, 1, 0.1, -2], ...extra.B },
];

const names = (p: ReturnType<typeof planTrim>) => p.trimmed.map((t) => `${t.layer}${t.position}`);

describe('planTrim: lowest logit off until the budget is met', () => {
  it('slots, params and bops: hand-counted orders and results', () => {
    for (const mode of ['slots', 'params', 'bops'] as const) {
      const plan = planTrim(layers(), { mode, targetBits: 1 });
      // slots: 6/8 -> 2/8; params: 1200/1600 -> 400 = 1 bit; bops (w 4000, 16000): same order
      expect(names(plan)).toEqual(['B2', 'A3', 'A2', 'B1']);
      expect(plan.met).toBe(true);
      expect(plan.before.reachedBits).toBeCloseTo(3, 12);
      expect(plan.after.reachedBits).toBeCloseTo(1, 12);
      expect(plan.after.ratio).toBeLessThanOrEqual(plan.after.targetRatio);
      expect(plan.trimmed[0]).toEqual({
        layer: 'B',
        position: 2,
        logit: Math.fround(0.1),
        reason: 'budget',
      });
      // trimmed logits are negated (at least 0.01 away from 0), the others untouched
      expect(Array.from(plan.logits[0]!)).toEqual([3, -1, -0.5, -0.2].map(Math.fround));
      expect(Array.from(plan.logits[1]!)).toEqual([2, -1, -0.1, -2].map(Math.fround));
    }
  });

  it('gives back trimmed bits the target does not need (params, target 1.5)', () => {
    // need sum |W| b <= 600: B2 -> 1100... trims B2, A3, A2, B1 (400), then gives back A2 (500)
    // and A3 (600); B2 would make 900.
    const plan = planTrim(layers(), { mode: 'params', targetBits: 1.5 });
    expect(names(plan)).toEqual(['B2', 'B1']);
    expect(plan.after.reachedBits).toBeCloseTo(1.5, 12);
    expect(plan.after.sizeBits).toBe(100 * 3 + 300 * 1);
  });

  it('storage: counts bits on disk with signed digits', () => {
    // A {0,2,3} reaches 21 codes: 5 bits; B {0,1,2} 15: 4 bits; full N = 4: 31 codes, 5 bits.
    // Need sum |W| s <= 2 * 400: B2 -> 1400, A3 -> 1300, A2 -> 1100, B1 -> 800.
    const plan = planTrim(layers(), { mode: 'storage', targetBits: 2 });
    expect(plan.before.reachedBits).toBeCloseTo((100 * 5 + 300 * 4) / 400, 12);
    expect(names(plan)).toEqual(['B2', 'A3', 'A2', 'B1']);
    expect(plan.after.reachedBits).toBeCloseTo(2, 12);
    expect(plan.after.avgBitsStorage).toBeCloseTo(2, 12);
  });

  it('respects per-layer bounds; the default floor is 1 bit, minBits 0 lets a layer go', () => {
    // B capped at 2 bits: B2 goes first for the ceiling; A's floor 3 makes target 1 unreachable
    const plan = planTrim(
      layers({ A: { bounds: { minBits: 3 } }, B: { bounds: { maxBits: 2 } } }),
      {
        mode: 'slots',
        targetBits: 1,
      },
    );
    expect(plan.trimmed.map((t) => [t.layer, t.position, t.reason])).toEqual([
      ['B', 2, 'maxBits'],
      ['B', 1, 'budget'],
    ]);
    expect(plan.met).toBe(false);
    expect(plan.after.reachedBits).toBeCloseTo(2, 12); // A 3 + B 1 of 8 slots
    // bounds only (budget: false): the ceiling still applies, the target is left alone
    const boundsOnly = planTrim(layers({ B: { bounds: { maxBits: 2 } } }), {
      targetBits: 1,
      budget: false,
    });
    expect(names(boundsOnly)).toEqual(['B2']);
    expect(boundsOnly.after.reachedBits).toBeCloseTo(2.5, 12);
    // a layer below its floor is raised: its highest unselected logit turns on
    const low = planTrim(
      [{ name: 'C', maxBits: 4, params: 10, logits: [-1, -0.5, -3, -2] }, layers()[1]!],
      { mode: 'slots', targetBits: 2 },
    );
    expect(low.raised).toEqual([{ layer: 'C', position: 1, logit: -0.5, reason: 'minBits' }]);
    expect(Array.from(low.logits[0]!)).toEqual([-1, 0.5, -3, -2]);
    // with minBits 0 everywhere, slots target 0.5 empties the weaker layer
    const zero = planTrim(
      layers({ A: { bounds: { minBits: 0 } }, B: { bounds: { minBits: 0 } } }),
      { mode: 'slots', targetBits: 0.5 },
    );
    expect(names(zero)).toEqual(['B2', 'A3', 'A2', 'B1', 'B0']);
    expect(zero.after.avgBitsSlots).toBe(0.5);
  });

  it('the exact rule by default (m = 0 is off); the continuous rule counts it', () => {
    const l: TrimLayer[] = [{ name: 'Z', maxBits: 2, params: 4, logits: [0, 1] }];
    expect(planTrim(l, { targetBits: 1 }).trimmed).toEqual([]);
    const c = planTrim(l, { targetBits: 1, phase: 'continuous' });
    expect(c.trimmed).toEqual([{ layer: 'Z', position: 0, logit: 0, reason: 'budget' }]);
    expect(c.logits[0]![0]).toBeCloseTo(-0.01, 7);
    const stats = budgetStats([{ name: 'Z', maxBits: 2, bits: 1, params: 4 }], { targetBits: 1 });
    expect(c.after).toEqual({ ...stats, avgBitsStorage: 2 / 1 });
  });

  it('typed errors for impossible inputs', () => {
    expect(() =>
      planTrim([{ name: 'Z', maxBits: 4, params: 4, logits: [1] }], { targetBits: 1 }),
    ).toThrow(/1 mask logits for N = 4/);
    expect(() =>
      planTrim(
        [{ name: 'Z', maxBits: 4, params: 4, logits: [1, 1, 1, 1], bounds: { minBits: 5 } }],
        {
          targetBits: 1,
        },
      ),
    ).toThrow(/minBits must be an integer in 0\.\.4/);
    expect(() =>
      planTrim(
        [
          {
            name: 'Z',
            maxBits: 4,
            params: 4,
            logits: [1, 1, 1, 1],
            bounds: { minBits: 3, maxBits: 2 },
          },
        ],
        { targetBits: 1 },
      ),
    ).toThrow(/above maxBits/);
  });
});
