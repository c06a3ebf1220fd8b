import { describe, expect, it } from 'vitest';
import { budgetStats } from './budget.js';
import { digitGram, kernelDamage, planTrim, type TrimLayer, trimScore } from './trim.js';

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

describe('planTrim: lowest logit per bit saved off until the budget is met', () => {
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

  it('trimScore: logit x layer weight per useful saving (hand values)', () => {
    // no overshoot: w m / saving = 2 * 0.5 / 0.1; a layer 4x as large (w 8, saving 0.4) costs
    // the same per bit saved while 0.4 are needed, 4x as much when only 0.1 is
    expect(trimScore(0.5, 2, 0.1, 0.3)).toBeCloseTo(10, 12);
    expect(trimScore(0.5, 8, 0.4, 0.4)).toBeCloseTo(10, 12);
    expect(trimScore(0.5, 8, 0.4, 0.1)).toBeCloseTo(40, 12);
    expect(trimScore(0, 5, 0.2, 0.1)).toBe(0);
  });

  it('the last bits come off a small layer, not a whole bit off a large one (params)', () => {
    // a converted conv -> dense net: dense holds 98 % of the weights and sits at 2 bits with
    // logits near 0, conv1 at 6 bits; 2.07 bits against a target of 2: 288 weight-bits too many
    const net: TrimLayer[] = [
      { name: 'conv1', maxBits: 8, params: 72, logits: [0.8, 0.6, 1.6, 1.2, 1.2, 0.3, -1, -1] },
      { name: 'dense', maxBits: 8, params: 3920, logits: [-1, 0.1, 0.2, -1, -1, -1, -1, -1] },
    ];
    const plan = planTrim(net, { mode: 'params', targetBits: 2 });
    expect(plan.before.reachedBits).toBeCloseTo((72 * 6 + 3920 * 2) / 3992, 12);
    // dense[1] (m 0.1) saves 3920 where 288 are needed: 13.6x the need, so it costs 1.36 (then
    // 1.8, 2.7, 5.4 as the need shrinks) against conv1's 0.3, 0.6, 0.8, 1.2: conv1 loses four
    // bits (4 x 72 = 288); lowest logit first would have taken dense[1] and left 1.1 bits
    expect(names(plan)).toEqual(['conv15', 'conv11', 'conv10', 'conv13']);
    expect(plan.after.sizeBits).toBe(72 * 2 + 3920 * 2);
    expect(plan.after.reachedBits).toBeCloseTo(2, 12);
    expect(plan.met).toBe(true);
    // the same net far above the target: the cheap dense bit goes first, then conv1's
    const far = planTrim(net, { mode: 'params', targetBits: 1.5 });
    expect(names(far)[0]).toBe('dense1');
    expect(far.after.reachedBits).toBeLessThanOrEqual(1.5);
  });

  it('digitGram and kernelDamage (hand values)', () => {
    // two weights, N = 3: w1 digits (1, 0, -1), w2 (1, 1, 0)
    const g = digitGram(Int8Array.from([1, 0, -1, 1, 1, 0]), 3);
    expect(Array.from(g)).toEqual([2, 1, -1, 1, 1, 0, -1, 0, 1]);
    // e = (1, 1/2, 1/4): W_from = (0.75, 1.5); keep {0,1}: (1, 1.5), cos^2 = 9 / (2.8125 x 3.25)
    expect(kernelDamage(g, 3, [0, 1, 2], [0, 1])).toBeCloseTo(1 / 65, 12);
    // keep {0,2}: (0.75, 1), cos^2 = 2.0625^2 / (2.8125 x 1.5625)
    expect(kernelDamage(g, 3, [0, 1, 2], [0, 2])).toBeCloseTo(1 - 2.0625 ** 2 / 4.39453125, 12);
    // keep {1,2}: (-0.25, 0.5), cos^2 = 0.5625^2 / (2.8125 x 0.3125) = 0.36
    expect(kernelDamage(g, 3, [0, 1, 2], [1, 2])).toBeCloseTo(0.64, 12);
    expect(kernelDamage(g, 3, [0, 1, 2], [0, 1, 2])).toBeCloseTo(0, 12);
    expect(kernelDamage(g, 3, [0, 1, 2], [])).toBe(1);
    // scale-free: the kernel doubled (every digit plane shifted up one position) costs nothing
    const shifted = digitGram(Int8Array.from([0, 1, 0, 0, 1, 1]), 3);
    expect(kernelDamage(shifted, 3, [1, 2], [1, 2])).toBe(0);
    expect(() => digitGram(Int8Array.from([1, 0, 1, 1]), 3)).toThrow(/whole number/);
  });

  it('with digit Gram matrices a cut costs its damage to the kernel, not its logit', () => {
    const g = digitGram(Int8Array.from([1, 0, -1, 1, 1, 0]), 3);
    // logits say cut the MSB (m 0.2); the damages are 0.64 (MSB), 0.032, 1/65 (LSB)
    const one: TrimLayer[] = [{ name: 'A', maxBits: 3, params: 2, logits: [0.2, 1, 1], gram: g }];
    expect(names(planTrim(one, { mode: 'slots', targetBits: 2 }))).toEqual(['A2']);
    const noGram: TrimLayer[] = [{ ...one[0]!, gram: undefined }];
    expect(names(planTrim(noGram, { mode: 'slots', targetBits: 2 }))).toEqual(['A0']);
    // an all-zero digit plane costs nothing, whatever its logit
    const zero = digitGram(Int8Array.from([1, 0, 0, 1, 1, 0]), 3);
    const z: TrimLayer[] = [
      { name: 'A', maxBits: 3, params: 2, logits: [0.1, 0.2, 3], gram: zero },
    ];
    expect(names(planTrim(z, { mode: 'slots', targetBits: 2 }))).toEqual(['A2']);
  });

  it('a converted conv -> dense net with digits: conv1 keeps its most significant bits', () => {
    // the net of the test above, now with the digits of 8-bit codes: conv1's 72 codes spread
    // over 0..255 (every plane in use), dense's 3920 codes likewise
    const digitsOf = (count: number, mult: number) => {
      const d = new Int8Array(count * 8);
      for (let w = 0; w < count; w++) {
        const code = (w * mult) % 256;
        const sign = w % 2 === 0 ? 1 : -1;
        for (let i = 0; i < 8; i++) d[w * 8 + i] = sign * ((code >> (7 - i)) & 1);
      }
      return d;
    };
    const net: TrimLayer[] = [
      {
        name: 'conv1',
        maxBits: 8,
        params: 72,
        logits: [0.8, 0.6, 1.6, 1.2, 1.2, 0.3, -1, -1],
        gram: digitGram(digitsOf(72, 37), 8),
      },
      {
        name: 'dense',
        maxBits: 8,
        params: 3920,
        logits: [-1, 0.1, 0.2, -1, -1, -1, -1, -1],
        gram: digitGram(digitsOf(3920, 101), 8),
      },
    ];
    const plan = planTrim(net, { mode: 'params', targetBits: 2 });
    // least significant first: 5, 4, 3, 2 go, 0 and 1 stay (the logit order cut 5, 1, 0, 3)
    expect(names(plan)).toEqual(['conv15', 'conv14', 'conv13', 'conv12']);
    expect(plan.after.reachedBits).toBeCloseTo(2, 12);
    expect(Array.from(plan.logits[0]!).map((m) => m > 0)).toEqual([
      true,
      true,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
  });
});
