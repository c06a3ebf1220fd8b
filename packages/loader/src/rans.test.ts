import { CsqError } from '@csq/core';
import { rng } from '@csq/test-utils';
import { describe, expect, it } from 'vitest';
import {
  entropyBits,
  quantizeFrequencies,
  RANS_SCALE_BITS,
  ransDecode,
  ransEncode,
  readVarint,
  symbolCounts,
  writeVarint,
} from './rans.js';

const M = 2 ** RANS_SCALE_BITS;

/** n symbols drawn with probabilities p (seeded). */
function draw(p: number[], n: number, seed: number): Uint32Array {
  const r = rng(seed);
  const out = new Uint32Array(n);
  for (let k = 0; k < n; k++) {
    let u = r();
    let s = 0;
    while (s < p.length - 1 && u >= p[s]!) u -= p[s++]!;
    out[k] = s;
  }
  return out;
}

describe('rANS', () => {
  it('writes the state of an empty and a one-symbol stream as computed by hand', () => {
    // the initial state 2^23, little-endian
    expect(Array.from(ransEncode([], [M / 2, M / 2]))).toEqual([0x00, 0x00, 0x80, 0x00]);
    // x = floor(2^23 / 8192) * 2^14 + 2^23 mod 8192 + start(1) = 2^24 + 2^13, no renormalization
    expect(Array.from(ransEncode([1], [M / 2, M / 2]))).toEqual([0x00, 0x20, 0x00, 0x01]);
    expect(
      Array.from(ransDecode(Uint8Array.from([0, 0x20, 0, 1]), [M / 2, M / 2], 1, 't')),
    ).toEqual([1]);
  });

  it.each([
    ['ternary, mostly zero', [0.2, 0.6, 0.2]],
    ['skewed binary', [0.97, 0.03]],
    ['nine levels', [0.01, 0.04, 0.1, 0.15, 0.4, 0.15, 0.1, 0.04, 0.01]],
  ])('round-trips %s within 0.5 %% of the entropy', (_, p) => {
    const n = 50_000;
    const symbols = draw(p, n, 7);
    const counts = symbolCounts(symbols, p.length);
    const freqs = quantizeFrequencies(counts);
    const stream = ransEncode(symbols, freqs);
    expect(Array.from(ransDecode(stream, freqs, n, 't'))).toEqual(Array.from(symbols));
    const bound = entropyBits(counts) / 8;
    expect(stream.length).toBeGreaterThanOrEqual(Math.floor(bound));
    expect(stream.length).toBeLessThanOrEqual(bound * 1.005 + 8);
  });

  it('quantizes frequencies to a sum of 2^14, every used symbol at least 1', () => {
    for (const counts of [[1, 1_000_000, 1], [5, 5], [1, 2, 3, 4, 5, 6, 7], Array(4096).fill(1)]) {
      const f = quantizeFrequencies(counts);
      expect(f.reduce((a, b) => a + b, 0)).toBe(M);
      expect(Math.min(...f)).toBeGreaterThanOrEqual(1);
    }
    expect(Array.from(quantizeFrequencies([1, 3]))).toEqual([M / 4, (3 * M) / 4]);
  });

  it('computes the entropy of counts as -sum c log2(c / n)', () => {
    expect(entropyBits([2, 2])).toBe(4);
    expect(entropyBits([1, 1, 2])).toBe(6); // 2 x 2 bits + 2 x 1 bit
    expect(entropyBits([0, 7])).toBe(0);
  });

  it('refuses streams that run out, run over or do not end in the initial state', () => {
    const freqs = quantizeFrequencies([3, 1]);
    const symbols = draw([0.75, 0.25], 1000, 3);
    const stream = ransEncode(symbols, freqs);
    const err = (s: Uint8Array, n = 1000) => {
      try {
        ransDecode(s, freqs, n, 'weights[0] ("k")');
      } catch (e) {
        expect(e).toBeInstanceOf(CsqError);
        expect((e as CsqError).message).toContain('weights[0] ("k")');
        return (e as CsqError).message;
      }
      return 'accepted';
    };
    expect(err(stream.subarray(0, stream.length - 1))).toMatch(/ends before weight|does not end/);
    expect(err(Uint8Array.from([...stream, 0]))).toMatch(/does not end where/);
    expect(err(stream, 999)).toMatch(/does not end where/);
    expect(err(stream.subarray(0, 3))).toMatch(/shorter than its 4-byte state/);
    expect(() => ransDecode(stream, [M - 1, 2], 1000, 'x')).toThrow(/frequenc/);
    // every single-byte change is caught or decodes to other symbols; never a hang or a crash
    for (let i = 0; i < stream.length; i++) {
      const bad = Uint8Array.from(stream);
      bad[i]! ^= 0x5a;
      const m = err(bad);
      expect(m === 'accepted' || /rANS/.test(m)).toBe(true);
    }
  });

  it('writes and reads LEB128 varints', () => {
    const out: number[] = [];
    for (const v of [0, 127, 128, 16384]) writeVarint(v, out);
    expect(out).toEqual([0, 127, 0x80, 1, 0x80, 0x80, 1]);
    const b = Uint8Array.from(out);
    expect(readVarint(b, 2, 't')).toEqual([128, 4]);
    expect(readVarint(b, 4, 't')).toEqual([16384, 7]);
    expect(() => readVarint(Uint8Array.from([0x80, 0x80, 0x80, 1]), 0, 't')).toThrow(CsqError);
    expect(() => readVarint(Uint8Array.from([0x80]), 0, 't')).toThrow(/cut short/);
  });
});
