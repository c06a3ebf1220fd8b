/**
 * Hostile checkpoints (issue 16): seeded mutations of a real checkpoint's header and data WITH
 * the checksum recomputed (the hard case: the CRC no longer protects), each of which must decode
 * to tensors whose sizes agree with their shapes, or fail with a CsqError. Allocation is
 * bounded by the file's own size, so no case can ask for more memory than it holds.
 */
import { CsqError, crc32 } from '@csq/core/base';
import { describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint.js';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const original = encodeCheckpoint({ epoch: 3, batch: 0, kind: 'csq', beta: 12.5 }, [
  { name: 'conv/kernel_p', shape: [3, 3, 1, 4, 8], values: new Float32Array(288).fill(0.5) },
  { name: 'conv/mask', shape: [8], values: new Float32Array(8).fill(1) },
  { name: 'dense/bias', shape: [10], values: new Float32Array(10) },
]);
const headerEnd = 12 + new DataView(original.buffer).getUint32(8, true);

/** Text edits that keep the header JSON-shaped but change what it says. */
const EDITS: [RegExp, string][] = [
  [/"length":\d+/, '"length":-1'],
  [/"length":\d+/, '"length":1e12'],
  [/"length":\d+/, '"length":7'],
  [/"offset":\d+/, '"offset":-8'],
  [/"offset":\d+/, '"offset":3'],
  [/"shape":\[[^\]]*\]/, '"shape":[-1,8]'],
  [/"shape":\[[^\]]*\]/, '"shape":"x"'],
  [/"tensors":\[/, '"tensors":{"a":['],
  [/"name":"[^"]*"/, '"name":""'],
  [/"name":"[^"]*"/, '"name":"conv/mask"'],
];

function mutate(rand: () => number): Uint8Array {
  let bytes = original.slice();
  if (rand() < 0.5) {
    // a text edit of the header, padded or cut to keep the data where it was
    const text = new TextDecoder().decode(bytes.subarray(12, headerEnd));
    const [re, to] = EDITS[Math.floor(rand() * EDITS.length)]!;
    const edited = new TextEncoder().encode(text.replace(re, to));
    const next = new Uint8Array(bytes.length - (headerEnd - 12) + edited.length);
    next.set(bytes.subarray(0, 12));
    new DataView(next.buffer).setUint32(8, edited.length, true);
    next.set(edited, 12);
    next.set(bytes.subarray(headerEnd), 12 + edited.length);
    bytes = next;
  } else {
    // random bytes anywhere but the checksum, or a truncation
    const flips = 1 + Math.floor(rand() * 4);
    for (let i = 0; i < flips; i++)
      bytes[Math.floor(rand() * (bytes.length - 4))] = Math.floor(rand() * 256);
    if (rand() < 0.2) bytes = bytes.slice(0, 12 + Math.floor(rand() * (bytes.length - 12)));
  }
  if (bytes.length >= 4) {
    const view = new DataView(bytes.buffer);
    view.setUint32(bytes.length - 4, crc32(bytes.subarray(0, bytes.length - 4)), true);
  }
  return bytes;
}

describe('decodeCheckpoint on mutated files with recomputed checksums', () => {
  it('gives consistent tensors or a CsqError, never another failure (3,000 seeded cases)', () => {
    const rand = mulberry32(16);
    const outcomes = { decoded: 0, refused: 0 };
    for (let i = 0; i < 3000; i++) {
      const bytes = mutate(rand);
      let data: ReturnType<typeof decodeCheckpoint> | undefined;
      try {
        data = decodeCheckpoint(bytes, `case ${i}`);
      } catch (e) {
        if (!(e instanceof CsqError)) throw new Error(`case ${i}: ${(e as Error).stack}`);
        expect(e.code).toBe('CSQ_BAD_CHECKPOINT');
        outcomes.refused++;
        continue;
      }
      outcomes.decoded++;
      let values = 0;
      for (const [name, t] of data.tensors) {
        expect(t.values.length, name).toBe(t.shape.reduce((a, b) => a * b, 1));
        values += t.values.length;
      }
      expect(values * 4).toBeLessThanOrEqual(bytes.length);
    }
    // both outcomes happen: the mutations reach the checks, and some leave a usable file
    expect(outcomes.refused).toBeGreaterThan(300);
    expect(outcomes.decoded).toBeGreaterThan(100);
  });
});
