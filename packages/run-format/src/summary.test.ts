import { CsqError } from '@csq/core/base';
import { describe, expect, it } from 'vitest';
import { buildSummary, parseSummary } from './summary.js';

describe('summary.json', () => {
  it('buildSummary: counted kernels at their bits, everything else float32', () => {
    const s = buildSummary({
      recipe: 'r',
      backend: 'cpu',
      epochs: 2,
      floatAccuracy: null,
      softAccuracy: 0.5,
      exactAccuracy: 0.4,
      report: {
        mode: 'slots',
        targetBits: 2,
        params: 100,
        sizeBits: 300,
        avgBitsSlots: 3.5,
        avgBitsParams: 3,
        compressionRatio: 32 / 3,
        layers: [
          { name: 'a', bits: 4, params: 50, maxBits: 8 },
          { name: 'b', bits: 2, params: 50, maxBits: 8 },
        ],
      },
      floatParams: 110,
      wallSeconds: 1,
      bits: 8,
    });
    // 300 bits = 37.5 bytes of kernels + 10 float32 values = 40 bytes -> 77.5 -> 78
    expect(s.sizeBytes).toBe(78);
    expect(s.float32Bytes).toBe(440);
    expect(s.compression).toBeCloseTo(440 / 78, 12);
    expect(s.layers[1]).toEqual({ name: 'b', bits: 2, params: 50, maxBits: 8 });
    expect(parseSummary(JSON.stringify(s))).toEqual(s);
  });

  it('states packedBytes, reached bits and the trim (or the miss of an off run)', () => {
    const report = {
      mode: 'slots',
      targetBits: 2,
      params: 100,
      sizeBits: 300,
      avgBitsSlots: 3,
      avgBitsParams: 3,
      compressionRatio: 32 / 3,
      reachedBits: 2.5,
      layers: [{ name: 'a', bits: 3, params: 100, maxBits: 8 }],
    };
    const base = {
      recipe: 'r',
      backend: 'cpu',
      epochs: 2,
      floatAccuracy: null,
      softAccuracy: 0.5,
      exactAccuracy: 0.4,
      report,
      floatParams: 100,
      wallSeconds: 1,
      bits: 8,
    };
    const trimmed = buildSummary({
      ...base,
      packedBytes: 1234,
      trim: {
        enforce: 'trim',
        targetBits: 2,
        reachedBefore: 3,
        reachedAfter: 2,
        met: true,
        trimmed: [{ layer: 'a', position: 2, logit: 0.25 }],
        raised: [],
      },
    });
    expect(trimmed.packedBytes).toBe(1234);
    expect(trimmed.reachedBits).toBe(2.5);
    expect(trimmed.trim).toMatchObject({ enforce: 'trim', met: true, missedBy: 0 });
    expect(trimmed.trim?.trimmed).toEqual([{ layer: 'a', position: 2, logit: 0.25 }]);
    const off = buildSummary({
      ...base,
      trim: {
        enforce: 'off',
        targetBits: 2,
        reachedBefore: 2.5,
        reachedAfter: 2.5,
        met: false,
        trimmed: [],
        raised: [],
      },
    });
    expect(off.trim).toMatchObject({ enforce: 'off', met: false, missedBy: 0.5 });
    expect(parseSummary(JSON.stringify(off))).toEqual(off);
    expect(() => parseSummary('{"layers":[],"trim":3}')).toThrow(/"trim" must be an object/);
    expect(() => parseSummary('{"layers":[],"packedBytes":"9"}')).toThrow(/"packedBytes"/);
  });

  it.each([
    ['not JSON', '{', /summary\.json is not JSON/],
    ['no layers', '{}', /"layers" must be a list/],
    ['a bad layer', '{"layers":[{"name":"a","bits":"2","params":3}]}', /layers\[0\] must be/],
    [
      'a bad number',
      '{"layers":[],"exactAccuracy":"high"}',
      /"exactAccuracy" must be a number or null/,
    ],
    ['bad avgBits', '{"layers":[],"avgBits":2}', /"avgBits" must be/],
  ])('refuses a summary with %s', (_, text, message) => {
    let e: unknown;
    try {
      parseSummary(text);
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(CsqError);
    expect((e as CsqError).code).toBe('CSQ_BAD_SUMMARY');
    expect((e as Error).message).toMatch(message);
  });

  it('accepts nulls (a run without a float baseline)', () => {
    expect(parseSummary('{"layers":[],"floatAccuracy":null}').floatAccuracy).toBeNull();
  });
});
