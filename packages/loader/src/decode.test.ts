import { CsqError, crc32 } from '@csq/core';
import { describe, expect, it } from 'vitest';
import { decodePackedModel, readPackedHeader } from './decode.js';
import { encodePackedModel } from './encode.js';
import { HEADER, PACKED_HEADER_BYTES, type PackedModelInput } from './format.js';
import { formatPackedSizeReport, packedSizeReport } from './size.js';

// A small file built without tfjs: a fake topology (the decoder does not build it) and one tensor
// of each encoding.
const input: PackedModelInput = {
  topology: { class_name: 'Sequential', config: { name: 'tiny', layers: [] } },
  weights: [
    {
      name: 'dense/kernel',
      shape: [4, 3],
      kind: 'codes',
      codes: Int32Array.from([0, 5, -5, 4, 1, -1, 0, 5, 4, -4, 1, 0]),
      bits: 3,
      scale: 0.75,
      positions: [0, 2],
    },
    { name: 'dense/bias', shape: [3], kind: 'float32', values: [0.5, -0.25, 1e-3] },
  ],
  meta: { note: 'tiny' },
};
// version 1 (JSON manifest, fixed-width indices): still read; format-v2.test.ts covers version 2
const good = encodePackedModel(input, { formatVersion: 1 });
const view = new DataView(good.buffer, good.byteOffset, good.byteLength);
const manifestLength = view.getUint32(HEADER.manifestLength, true);
const payloadStart = PACKED_HEADER_BYTES + manifestLength;

function errorOf(bytes: Uint8Array): CsqError {
  try {
    decodePackedModel(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(CsqError);
    return e as CsqError;
  }
  throw new Error('decodePackedModel accepted a damaged file');
}

/** Rewrites the header fields and CRCs after an edit (what a buggy writer would produce). */
function reseal(bytes: Uint8Array, fields: Partial<Record<keyof typeof HEADER, number>> = {}) {
  const out = Uint8Array.from(bytes);
  const v = new DataView(out.buffer);
  for (const [k, val] of Object.entries(fields))
    v.setUint32(HEADER[k as keyof typeof HEADER], val!, true);
  const m = v.getUint32(HEADER.manifestLength, true);
  v.setUint32(HEADER.manifestCrc, crc32(out, PACKED_HEADER_BYTES, PACKED_HEADER_BYTES + m), true);
  v.setUint32(HEADER.payloadCrc, crc32(out, PACKED_HEADER_BYTES + m, out.length), true);
  v.setUint32(HEADER.headerCrc, crc32(out, 0, HEADER.headerCrc), true);
  return out;
}

/** A file whose manifest JSON is replaced (CRCs valid), to test the structural checks. */
function withManifest(edit: (m: Record<string, unknown>) => void): Uint8Array {
  const m = JSON.parse(new TextDecoder().decode(good.subarray(PACKED_HEADER_BYTES, payloadStart)));
  edit(m);
  const json = new TextEncoder().encode(JSON.stringify(m));
  const out = new Uint8Array(PACKED_HEADER_BYTES + json.length + (good.length - payloadStart));
  out.set(good.subarray(0, PACKED_HEADER_BYTES));
  out.set(json, PACKED_HEADER_BYTES);
  out.set(good.subarray(payloadStart), PACKED_HEADER_BYTES + json.length);
  return reseal(out, { manifestLength: json.length });
}

describe('packed format layout', () => {
  it('decodes what it encodes: codes exactly, floats bit for bit', () => {
    const d = decodePackedModel(good);
    expect(d.meta).toEqual({ note: 'tiny' });
    expect(Array.from(d.weights[0]!.codes!)).toEqual([0, 5, -5, 4, 1, -1, 0, 5, 4, -4, 1, 0]);
    // weight = scale * code / (2^3 - 1), hand-computed
    expect(d.weights[0]!.values[1]).toBe(Math.fround((0.75 * 5) / 7));
    expect(d.weights[0]!.values[9]).toBe(Math.fround((0.75 * -4) / 7));
    expect(Array.from(d.weights[1]!.values)).toEqual([0.5, -0.25, Math.fround(1e-3)]);
  });

  it('writes the header byte by byte as docs/packed-format.md says', () => {
    expect(Array.from(good.subarray(0, 8))).toEqual([
      0x89, 0x43, 0x53, 0x51, 0x50, 0x0d, 0x0a, 0x1a,
    ]);
    expect(view.getUint32(8, true)).toBe(1);
    const payloadLength = view.getUint32(16, true);
    // codes use 7 levels (-5, -4, -1, 0, 1, 4, 5) at 3 + 1 bits = 28 bits -> 4 bytes of
    // codebook; 12 indices at ceil(log2 7) = 3 bits = 36 bits -> 5 bytes; bias 3 x 4 bytes
    expect(payloadLength).toBe(4 + 5 + 12);
    expect(good.length).toBe(32 + manifestLength + payloadLength);
    expect(view.getUint32(20, true)).toBe(crc32(good.subarray(32, payloadStart)));
    expect(view.getUint32(24, true)).toBe(crc32(good.subarray(payloadStart)));
    expect(view.getUint32(28, true)).toBe(crc32(good.subarray(0, 28)));
    // codebook: levels + 7 at 4 bits, MSB first: 2,3,6,7,8,11,12 -> 0x23 0x67 0x8b 0xc0
    expect(Array.from(good.subarray(payloadStart, payloadStart + 4))).toEqual([
      0x23, 0x67, 0x8b, 0xc0,
    ]);
    // indices of codes [0,5,-5,4,...] into [-5,-4,-1,0,1,4,5]: 3,6,0,5 at 3 bits -> 011 110 000 101 ...
    expect(good[payloadStart + 4]).toBe(0b01111000);
    expect(view.getFloat32(payloadStart + 9, true)).toBe(0.5);
    const manifest = JSON.parse(new TextDecoder().decode(good.subarray(32, payloadStart)));
    expect(manifest.weights[0]).toEqual({
      name: 'dense/kernel',
      shape: [4, 3],
      encoding: 'codes',
      offset: 0,
      byteLength: 9,
      bits: 3,
      scale: 0.75,
      positions: [0, 2],
      levelCount: 7,
      indexWidth: 3,
    });
    expect(manifest.weights[1]).toMatchObject({ encoding: 'float32', offset: 9, byteLength: 12 });
  });
});

describe('corruption is always detected with a clear CsqError', () => {
  it('flipping any single byte of the file (every position) is refused, naming the section', () => {
    for (let i = 0; i < good.length; i++) {
      for (const mask of [0xff, 0x01]) {
        const bad = Uint8Array.from(good);
        bad[i]! ^= mask;
        const e = errorOf(bad);
        if (i < 8) expect(e.code, `byte ${i}`).toBe('CSQ_PACKED_MAGIC');
        else if (i < 12) expect(e.code, `byte ${i}`).toBe('CSQ_PACKED_VERSION');
        else if (i < 32)
          expect(e.code, `byte ${i}`).toMatch(/CSQ_PACKED_(CHECKSUM|TRUNCATED|LENGTH)/);
        else {
          expect(e.code, `byte ${i}`).toBe('CSQ_PACKED_CHECKSUM');
          expect(e.message).toContain(i < payloadStart ? 'manifest' : 'weights');
        }
      }
    }
  });

  it('a header byte flip is a header checksum error', () => {
    const bad = Uint8Array.from(good);
    bad[HEADER.payloadCrc]! ^= 0x10;
    const e = errorOf(bad);
    expect(e.code).toBe('CSQ_PACKED_CHECKSUM');
    expect(e.message).toMatch(/header is corrupt.*export or download the file again/i);
  });

  it('every truncation is refused as truncated, and extra bytes as such', () => {
    for (let len = 0; len < good.length; len++) {
      const e = errorOf(good.subarray(0, len));
      expect(e.code, `length ${len}`).toBe('CSQ_PACKED_TRUNCATED');
    }
    expect(errorOf(good.subarray(0, good.length - 3)).message).toMatch(
      new RegExp(`${good.length - 3} bytes but its header says ${good.length}`),
    );
    const longer = new Uint8Array(good.length + 1);
    longer.set(good);
    expect(errorOf(longer).code).toBe('CSQ_PACKED_LENGTH');
  });

  it('wrong magic says what the file looks like', () => {
    const json = new TextEncoder().encode(
      '{"modelTopology": {}, "weightsManifest": []}'.padEnd(64),
    );
    const e = errorOf(json);
    expect(e.code).toBe('CSQ_PACKED_MAGIC');
    expect(e.message).toMatch(/not a csq packed model.*model\.json.*tf\.loadLayersModel/);
    expect(errorOf(new Uint8Array(40).fill(7)).message).toMatch(/starts with bytes 07 07/);
  });

  it('a future version asks to upgrade the loader; version 0 is damage', () => {
    const e = errorOf(reseal(good, { version: 3 }));
    expect(e.code).toBe('CSQ_PACKED_VERSION');
    expect(e.message).toMatch(
      /format version 3, newer than this loader reads \(1, 2\): upgrade @csq\/loader/,
    );
    expect(errorOf(reseal(good, { version: 0 })).message).toMatch(/does not exist.*damaged/);
  });

  it('checks the manifest structure even when the checksums are right', () => {
    const entry = (m: Record<string, unknown>, i: number) =>
      (m['weights'] as Array<Record<string, unknown>>)[i]!;
    const setTop = (key: string, value: unknown) => (m: Record<string, unknown>) => {
      m[key] = value;
    };
    const setEntry = (i: number, key: string, value: unknown) => (m: Record<string, unknown>) => {
      entry(m, i)[key] = value;
    };
    const cases: Array<[string, (m: Record<string, unknown>) => void, RegExp]> = [
      ['format', setTop('format', 'other'), /"format" is "other"/],
      ['topology', setTop('topology', 3), /topology/],
      ['meta', setTop('meta', [1]), /"meta" is not an object/],
      ['encoding', setEntry(1, 'encoding', 'float16'), /encoding "float16" is unknown.*upgrade/],
      ['byteLength', setEntry(1, 'byteLength', 8), /byteLength 8 should be 12/],
      ['offset', setEntry(1, 'offset', 10), /must start at 9/],
      ['levelCount', setEntry(0, 'levelCount', 40), /levelCount 40 is impossible/],
      ['indexWidth', setEntry(0, 'indexWidth', 4), /indexWidth 4 should be 3/],
      ['positions', setEntry(0, 'positions', [2, 0]), /positions \[2,0\]/],
      ['bits', setEntry(0, 'bits', 17), /bits 17/],
      ['scale', setEntry(0, 'scale', 'x'), /scale x is not a finite float32 number/],
      // finite in float64, Infinity in float32: the weights would all be +-Inf
      ['float32 scale', setEntry(0, 'scale', 1e39), /scale 1e\+39 is not a finite float32/],
      ['coding in v1', setEntry(0, 'coding', 'rans'), /"coding", which version 1 does not know/],
      ['shape', setEntry(0, 'shape', [4, -3]), /shape \[4,-3\]/],
      ['name', setEntry(0, 'name', ''), /weights\[0\] has no name/],
      [
        'payload',
        (m) => {
          (m['weights'] as unknown[]).pop();
        },
        /tensors take 9 bytes but the payload has 21/,
      ],
    ];
    for (const [what, edit, message] of cases) {
      const e = errorOf(withManifest(edit));
      expect(e.code, what).toBe('CSQ_PACKED_MANIFEST');
      expect(e.message, what).toMatch(message);
    }
  });

  it('refuses a codebook level the selected positions cannot make', () => {
    // positions [0, 2] of 3 bits reach |code| <= 5; rewrite the first level (-5 + 7 = 2) as 15 - 7 = 8
    const bad = Uint8Array.from(good);
    bad[payloadStart] = (0xf << 4) | (bad[payloadStart]! & 0x0f);
    const e = errorOf(reseal(bad));
    expect(e.code).toBe('CSQ_PACKED_MANIFEST');
    expect(e.message).toMatch(/codebook entry 0 = 8/);
  });

  it('reads from a Uint8Array view with an offset, and from an ArrayBuffer', () => {
    const big = new Uint8Array(good.length + 5);
    big.set(good, 3);
    expect(decodePackedModel(big.subarray(3, 3 + good.length)).weights[1]!.values[0]).toBe(0.5);
    expect(readPackedHeader(good.slice().buffer).payloadLength).toBe(21);
  });
});

describe('packedSizeReport', () => {
  it('counts header, manifest, packed weights and the comparison sizes', () => {
    const r = packedSizeReport(good);
    expect(r).toMatchObject({
      fileBytes: good.length,
      headerBytes: 32,
      manifestBytes: manifestLength,
      packedWeightBytes: 21,
      codesBytes: 9,
      codebookBytes: 4,
      float32TensorBytes: 12,
      quantizedParams: 12,
      floatParams: 3,
      indexBoundBytes: 5,
      selectedBitsBytes: 3, // 2 positions x 12 weights / 8
      float32ModelBytes: 60,
      uint8ModelBytes: 15,
    });
    const text = formatPackedSizeReport(r);
    expect(text).toContain('12 weights in 9 B');
    expect(text).toContain('float32 model    60 B');
  });
});
