import { expectClose, uniform } from '@csq/test-utils';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exactWeight, initBitPlanes } from './bits.js';
import {
  codesToWeights,
  decodeLayerCodes,
  encodeLayerCodes,
  exactCodes,
  indexWidth,
  packBits,
  packedByteLength,
  unpackBits,
} from './codes.js';

describe('integer codes of the exact model', () => {
  it('hand-computed codes and selected positions', () => {
    // N = 3, weights: p = 101, n = 010 -> 4 - 2 + 1 = 3; p = 000, n = 111 -> -7
    const p = [1, 0, 1, 0, 0, 0];
    const n = [0, 1, 0, 1, 1, 1];
    const all = exactCodes({ p, n, m: [1, 1, 1], bits: 3 });
    expect(Array.from(all.codes)).toEqual([3, -7]);
    expect(all.positions).toEqual([0, 1, 2]);
    const some = exactCodes({ p, n, m: [1, -1, 0], bits: 3 }); // H(0) = 0: only the MSB
    expect(Array.from(some.codes)).toEqual([4, -4]);
    expect(some.positions).toEqual([0]);
  });

  it('codes times s / (2^N - 1) equal exactWeight', () => {
    const bits = 6;
    const w = uniform(200, -1, 1, 11);
    const { p, n, scale } = initBitPlanes(w, bits);
    const m = [1, -1, 2, 0.5, -3, 1];
    const { codes } = exactCodes({ p, n, m, bits });
    expectClose(codesToWeights(codes, scale, bits), exactWeight({ p, n, m, scale, bits }), {
      rtol: 1e-6,
      atol: 1e-7,
    });
  });
});

describe('bit packing', () => {
  it('packs MSB first, hand-checked bytes', () => {
    expect(Array.from(packBits([1, 0, 1, 1], 1))).toEqual([0b10110000]);
    expect(Array.from(packBits([5, 3], 3))).toEqual([0b10101100]);
    expect(Array.from(packBits([0xabc, 0x123], 12))).toEqual([0xab, 0xc1, 0x23]);
    expect(packBits([0, 0, 0], 0).length).toBe(0);
    expect(packedByteLength(9, 3)).toBe(4);
    expect(() => packBits([4], 2)).toThrow(/does not fit in 2/);
    expect(() => unpackBits(new Uint8Array(1), 3, 3)).toThrow(/need 2/);
  });

  it('property: pack/unpack round-trips every code for b = 1..8 at exactly b bits per value', () => {
    for (let b = 1; b <= 8; b++) {
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 0, max: 2 ** b - 1 }), { maxLength: 300 }),
          (vals) => {
            const bytes = packBits(vals, b);
            expect(bytes.length).toBe(Math.ceil((vals.length * b) / 8));
            expect(Array.from(unpackBits(bytes, b, vals.length))).toEqual(vals);
          },
        ),
        { numRuns: 60 },
      );
      // every code of the width, in one stream
      const every = Array.from({ length: 2 ** b }, (_, i) => i);
      expect(Array.from(unpackBits(packBits(every, b), b, every.length))).toEqual(every);
    }
  });

  it('property: layer codes encode losslessly at ceil(log2(levels used)) bits', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 120,
        }),
        fc.integer({ min: 1, max: 255 }),
        (bits, pairs, maskBitsRaw) => {
          const maskBits = maskBitsRaw & (2 ** bits - 1);
          const m = Array.from({ length: bits }, (_, i) =>
            (maskBits >> (bits - 1 - i)) & 1 ? 1 : -1,
          );
          const p: number[] = [];
          const n: number[] = [];
          for (const [a, c] of pairs) {
            for (let i = 0; i < bits; i++) {
              p.push((a >> i) & 1);
              n.push((c >> i) & 1);
            }
          }
          const { codes, positions } = exactCodes({ p, n, m, bits });
          const enc = encodeLayerCodes(codes);
          expect(Array.from(decodeLayerCodes(enc))).toEqual(Array.from(codes));
          const b = positions.length;
          // signed digits: at most 3^b distinct integers; contiguous positions give at most 2^(b+1) - 1
          expect(enc.width).toBeLessThanOrEqual(Math.ceil(b * Math.log2(3)));
          const contiguous = b === 0 || positions[b - 1]! - positions[0]! === b - 1;
          if (contiguous) expect(enc.width).toBeLessThanOrEqual(b + 1);
          expect(enc.width).toBe(indexWidth(new Set(codes).size));
          expect(enc.data.length).toBe(Math.ceil((codes.length * enc.width) / 8));
        },
      ),
      { numRuns: 300 },
    );
  });
});
