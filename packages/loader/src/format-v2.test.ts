import { CsqError, exactCodes, initBitPlanes } from '@csq/core';
import { uniform, useBackend } from '@csq/test-utils';
import { deflateSync, inflateSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodePackedModel, readPackedManifest } from './decode.js';
import { encodePackedModel } from './encode.js';
import { PACKED_HEADER_BYTES, type PackedModelInput } from './format.js';
import { loadPackedModel } from './load.js';
import { manifestDictionary } from './manifest-codec.js';
import { assemble, reseal, sections } from './test-files.js';
import {
  predict,
  quantizeModel,
  RESIDUAL_PLANS,
  randomizeWeights,
  residualModel,
  SEQUENTIAL_PLANS,
  sequentialModel,
} from './test-models.js';

beforeAll(() => useBackend('cpu'));

// a 1-bit layer (MSB only) of 2048 gaussian-ish weights: ternary codes, mostly 0
const w = uniform(2048, -1, 1, 9).map((v) => v * Math.abs(v) * Math.abs(v));
const planes = initBitPlanes(w, 4);
const ternary = exactCodes({ ...planes, m: [1, -1, -1, -1], bits: 4 });
const input: PackedModelInput = {
  topology: { class_name: 'Sequential', config: { name: 'tiny', layers: [] } },
  weights: [
    {
      name: 'k',
      shape: [2048],
      kind: 'codes',
      codes: ternary.codes,
      bits: 4,
      scale: planes.scale,
      positions: ternary.positions,
    },
    // two equally used levels: rANS cannot beat 1 bit per weight, so it stays packed
    {
      name: 'two',
      shape: [64],
      kind: 'codes',
      codes: Array.from({ length: 64 }, (_, k) => (k % 2 ? 8 : -8)),
      bits: 4,
      scale: 1,
      positions: [0],
    },
    { name: 'b', shape: [2], kind: 'float32', values: [0.5, -2] },
  ],
};
const v2 = encodePackedModel(input);
const v1 = encodePackedModel(input, { formatVersion: 1 });

describe('packed format version 2', () => {
  it('writes version 2 with a DEFLATE manifest (preset dictionary) after its length', () => {
    const view = new DataView(v2.buffer, v2.byteOffset);
    expect(view.getUint32(8, true)).toBe(2);
    const m = view.getUint32(12, true);
    const section = v2.subarray(PACKED_HEADER_BYTES, PACKED_HEADER_BYTES + m);
    const json = inflateSync(section.subarray(4), { dictionary: manifestDictionary() });
    expect(new DataView(section.buffer, section.byteOffset).getUint32(0, true)).toBe(json.length);
    const manifest = JSON.parse(new TextDecoder().decode(json));
    expect(manifest.format).toBe('csq-packed');
    expect(manifest.weights[0]).toMatchObject({ coding: 'rans', levelCount: 3, indexWidth: 2 });
    expect(manifest.weights[1]).toMatchObject({
      coding: 'packed',
      levelCount: 2,
      byteLength: 2 + 8,
    });
    expect(manifest.weights[2].coding).toBeUndefined();
  });

  it('stores the ternary layer as codebook, frequency table and rANS stream, near its entropy', () => {
    const { manifest } = readPackedManifest(v2);
    const e = manifest.weights[0]!;
    const counts = [0, 0, 0];
    const levels = [...new Set(ternary.codes)].sort((a, b) => a - b);
    for (const c of ternary.codes) counts[levels.indexOf(c)]!++;
    expect(counts.every((c) => c > 0)).toBe(true);
    const entropy = counts.reduce((h, c) => h - c * Math.log2(c / 2048), 0) / 8;
    expect(entropy).toBeLessThan(2048 / 4 - 64); // clearly below the 2-bit packing
    // codebook 3 x 5 bits = 2 bytes, frequencies 3 varints of at most 2 bytes, 4-byte state
    expect(e.byteLength).toBeGreaterThanOrEqual(2 + 3 + 4 + Math.floor(entropy));
    expect(e.byteLength).toBeLessThanOrEqual(2 + 6 + 4 + Math.ceil(entropy * 1.01));
    expect(v2.length).toBeLessThan(v1.length);
  });

  it('decodes to the same codes and float32 values as version 1, bit for bit', () => {
    const a = decodePackedModel(v1);
    const b = decodePackedModel(v2);
    expect(b.weights.map((x) => Array.from(x.values))).toEqual(
      a.weights.map((x) => Array.from(x.values)),
    );
    expect(Array.from(b.weights[0]!.codes!)).toEqual(Array.from(ternary.codes));
  });

  it.each([
    ['sequential', sequentialModel, SEQUENTIAL_PLANS, [8, 8, 2]],
    ['residual', residualModel, RESIDUAL_PLANS, [6, 6, 3]],
  ] as const)(
    '%s model: v1 and v2 files load to bit-identical predictions',
    async (_, build, plans, shape) => {
      const model = build();
      randomizeWeights(model, 5);
      const { inputs } = quantizeModel(model, plans);
      const topology = model.toJSON(null, false) as object;
      const a = await loadPackedModel(
        encodePackedModel({ topology, weights: inputs }, { formatVersion: 1 }),
      );
      const b = await loadPackedModel(encodePackedModel({ topology, weights: inputs }));
      const x = uniform(3 * shape.reduce((p, d) => p * d, 1), -1, 1, 2);
      expect(Array.from(predict(b, x, [3, ...shape]))).toEqual(
        Array.from(predict(a, x, [3, ...shape])),
      );
      for (const m of [model, a, b]) m.dispose();
    },
  );

  it('catches every single-byte flip and every truncation', () => {
    for (let i = 0; i < v2.length; i++) {
      const bad = Uint8Array.from(v2);
      bad[i]! ^= 0x24;
      expect(() => decodePackedModel(bad), `byte ${i}`).toThrow(CsqError);
    }
    for (let len = 0; len < v2.length; len += 7) {
      expect(() => decodePackedModel(v2.subarray(0, len)), `length ${len}`).toThrow(/truncated/);
    }
  });

  it('never inflates a manifest past its declared length or the maxBytes limit', () => {
    const s = sections(v2);
    const json = new TextEncoder().encode(s.json);
    const section = (declared: number, body: Uint8Array) => {
      const out = new Uint8Array(4 + body.length);
      new DataView(out.buffer).setUint32(0, declared, true);
      out.set(body, 4);
      return out;
    };
    const deflated = deflateSync(json, { dictionary: manifestDictionary() });
    const err = (sec: Uint8Array, opts = {}) => {
      try {
        decodePackedModel(assemble(2, sec, s.payload), opts);
      } catch (e) {
        expect(e).toBeInstanceOf(CsqError);
        return e as CsqError;
      }
      throw new Error('accepted');
    };
    // a bomb: 16 MiB of spaces in a few KiB, declared as what it really is, over the limit
    const bomb = deflateSync(new Uint8Array(16 * 2 ** 20).fill(0x20), { level: 1 });
    expect(bomb.length).toBeLessThan(100_000);
    expect(err(section(16 * 2 ** 20, bomb), { maxBytes: 2 ** 20 }).code).toBe('CSQ_PACKED_LIMIT');
    // the same bomb declared small: inflation stops at the declared length
    expect(err(section(1000, bomb)).message).toMatch(/inflates past its declared 1000 bytes/);
    expect(err(section(json.length + 1, deflated)).message).toMatch(/inflates to \d+ bytes, not/);
    expect(err(section(json.length, Uint8Array.from([1, 2, 3, 4, 5]))).code).toBe(
      'CSQ_PACKED_MANIFEST',
    );
    expect(err(new Uint8Array(3)).message).toMatch(/cut short/);
    expect(
      decodePackedModel(assemble(2, section(json.length, deflated), s.payload)).weights,
    ).toHaveLength(3);
  });

  it('a changed rANS stream (checksums recomputed) is a typed error or other valid codes', () => {
    const { header, manifest } = readPackedManifest(v2);
    const start = PACKED_HEADER_BYTES + header.manifestLength + manifest.weights[0]!.offset;
    let caught = 0;
    for (let i = start; i < start + manifest.weights[0]!.byteLength; i++) {
      const bad = Uint8Array.from(v2);
      bad[i]! ^= 0x81;
      try {
        decodePackedModel(reseal(bad));
      } catch (e) {
        expect(e).toBeInstanceOf(CsqError);
        caught++;
      }
    }
    expect(caught).toBeGreaterThan(manifest.weights[0]!.byteLength / 2);
  });

  it('refuses to write an unknown version', () => {
    expect(() => encodePackedModel(input, { formatVersion: 3 as never })).toThrow(
      /formatVersion must be one of 1, 2/,
    );
  });
});
