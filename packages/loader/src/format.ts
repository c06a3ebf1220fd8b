/**
 * The csq packed model format, versions 1 and 2 (docs/packed-format.md is the byte-by-byte
 * description; this file is its single source of constants and types).
 *
 *   bytes [0, 32)         header: magic, version, section lengths, CRC-32 of each section
 *   bytes [32, 32+M)      manifest: UTF-8 JSON (v1), or its length and its DEFLATE (v2)
 *   bytes [32+M, 32+M+P)  payload: the weight tensors, back to back, in manifest order
 */

/** First 8 bytes of every packed file: 0x89 "CSQP" CR LF 0x1A (PNG-style: catches text-mode copies). */
export const PACKED_MAGIC: readonly number[] = Object.freeze([
  0x89, 0x43, 0x53, 0x51, 0x50, 0x0d, 0x0a, 0x1a,
]);

/** The format version this package writes by default and the newest it reads. */
export const PACKED_FORMAT_VERSION = 2;

/** Every format version this package reads (and can write). */
export const PACKED_FORMAT_VERSIONS: readonly number[] = Object.freeze([1, 2]);

/** Size of the fixed header in bytes. */
export const PACKED_HEADER_BYTES = 32;

/** Value of the manifest's `format` field. */
export const PACKED_FORMAT_NAME = 'csq-packed';

/** Usual file extension of a packed model. */
export const PACKED_EXTENSION = '.csqp';

/** Byte offsets of the header fields (all unsigned 32-bit little-endian after the magic). */
export const HEADER = {
  magic: 0,
  version: 8,
  manifestLength: 12,
  payloadLength: 16,
  manifestCrc: 20,
  payloadCrc: 24,
  headerCrc: 28,
} as const;

/** Largest section length the u32 length fields can hold. */
export const MAX_SECTION_BYTES = 0xffffffff;

/** A quantized kernel: integer codes of the exact model (spec 1) at `bits` = N. */
export interface PackedCodesInput {
  name: string;
  shape: number[];
  kind: 'codes';
  /** One signed integer per weight, in [-(2^N - 1), 2^N - 1], digits only at `positions`. */
  codes: ArrayLike<number>;
  /** N, the layer's starting bit width (1..16). */
  bits: number;
  /** The layer scale s: weight = s * code / (2^N - 1). */
  scale: number;
  /** Selected bit positions (0 = MSB), strictly ascending. */
  positions: number[];
}

/** A tensor stored as it is (batch norm, shortcut convs, biases). */
export interface PackedFloat32Input {
  name: string;
  shape: number[];
  kind: 'float32';
  values: ArrayLike<number>;
}

/** One weight tensor handed to `encodePackedModel`. */
export type PackedWeightInput = PackedCodesInput | PackedFloat32Input;

/** What `encodePackedModel` packs. */
export interface PackedModelInput {
  /**
   * A standard tfjs-layers model topology, i.e. `model.toJSON(null, false)` (an object with
   * `class_name` and `config`), or the same as a JSON string. Only plain tfjs layers, so that
   * the loader needs no custom classes.
   */
  topology: object | string;
  /** One entry per tensor, in the order `model.getWeights()` returns them. */
  weights: PackedWeightInput[];
  /** Free-form JSON (recipe, accuracy, bit widths...) carried in the manifest. */
  meta?: Record<string, unknown>;
}

interface EntryBase {
  name: string;
  shape: number[];
  /** Byte offset of the tensor's region inside the payload. */
  offset: number;
  /** Byte length of the region. */
  byteLength: number;
}

/** Manifest entry of a `codes` tensor; its region is the codebook then the packed indices. */
export interface PackedCodesEntry extends EntryBase {
  encoding: 'codes';
  bits: number;
  scale: number;
  positions: number[];
  /** Number of distinct integers (levels) the tensor uses; the codebook has this many. */
  levelCount: number;
  /** Bits per packed index: ceil(log2(levelCount)), 0 when levelCount <= 1. */
  indexWidth: number;
  /**
   * How the indices are stored (version 2 only; version 1 is always 'packed'): 'packed' at
   * indexWidth bits each, or 'rans' (a frequency table, then a rANS stream).
   */
  coding?: 'packed' | 'rans';
}

/** Manifest entry of a `float32` tensor: 4 bytes per value, little-endian IEEE 754. */
export interface PackedFloat32Entry extends EntryBase {
  encoding: 'float32';
}

/** One manifest weight entry. */
export type PackedWeightEntry = PackedCodesEntry | PackedFloat32Entry;

/** The JSON manifest. */
export interface PackedManifest {
  format: typeof PACKED_FORMAT_NAME;
  topology: Record<string, unknown>;
  weights: PackedWeightEntry[];
  meta?: Record<string, unknown>;
}

/** One dequantized tensor from `decodePackedModel`. */
export interface DecodedWeight {
  name: string;
  shape: number[];
  encoding: 'codes' | 'float32';
  /** The tensor's values, float32 (codes dequantized exactly as @csq/core `codesToWeights`). */
  values: Float32Array;
  /** For `codes` tensors: the integer codes, N, scale and selected positions as stored. */
  codes?: Int32Array;
  bits?: number;
  scale?: number;
  positions?: number[];
}

/** What `decodePackedModel` returns. */
export interface DecodedPackedModel {
  topology: Record<string, unknown>;
  weights: DecodedWeight[];
  meta: Record<string, unknown> | undefined;
  manifest: PackedManifest;
}

/** Number of elements of a tensor of `shape`. */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Largest |code| digits at `positions` can reach: sum over positions of 2^(N-1-i). */
export function reachOf(positions: readonly number[], bits: number): number {
  let r = 0;
  for (const i of positions) r += 2 ** (bits - 1 - i);
  return r;
}

/** Bytes of a codes region: codebook (levelCount values at N+1 bits) then indices. */
export function codesRegionBytes(
  levelCount: number,
  bits: number,
  count: number,
  indexWidth: number,
): { codebook: number; indices: number } {
  return {
    codebook: Math.ceil((levelCount * (bits + 1)) / 8),
    indices: Math.ceil((count * indexWidth) / 8),
  };
}

/**
 * Whether the integer v can be written as sum over `positions` of d_i 2^(N-1-i) with signed
 * digits d_i in {-1, 0, +1} (spec 1: the only integers the exact model of a layer with those
 * selected positions can hold).
 */
export function representable(v: number, positions: readonly number[], bits: number): boolean {
  // place values, smallest first; after choosing the digit of place w_j the rest must be a
  // multiple of w_{j+1}, which leaves at most two choices per place
  const w = positions.map((i) => 2 ** (bits - 1 - i)).sort((a, b) => a - b);
  const reach: number[] = new Array(w.length + 1).fill(0);
  for (let j = w.length - 1; j >= 0; j--) reach[j] = reach[j + 1]! + w[j]!;
  const go = (rest: number, j: number): boolean => {
    if (Math.abs(rest) > reach[j]!) return false;
    if (j === w.length) return rest === 0;
    const next = j + 1 < w.length ? w[j + 1]! : 0;
    for (const d of [0, 1, -1]) {
      const r = rest - d * w[j]!;
      if ((next === 0 ? r === 0 : r % next === 0) && go(r, j + 1)) return true;
    }
    return false;
  };
  return Number.isInteger(v) && go(v, 0);
}

/**
 * `representable` for many values of one tensor, fast: contiguous positions reach every multiple
 * of their smallest place value up to their reach; otherwise, with at most 10 positions, the set of all 3^b digit sums is
 * enumerated once; beyond that the search of `representable` runs per value.
 */
export function representableTest(
  positions: readonly number[],
  bits: number,
): (v: number) => boolean {
  const reach = reachOf(positions, bits);
  const contiguous = positions.every((p, k) => k === 0 || p === positions[k - 1]! + 1);
  if (contiguous) {
    // digits on consecutive places make every multiple of the smallest place value up to reach
    const step = positions.length > 0 ? 2 ** (bits - 1 - positions[positions.length - 1]!) : 1;
    return (v) => Number.isInteger(v) && Math.abs(v) <= reach && v % step === 0;
  }
  if (positions.length <= 10) {
    let sums = new Set<number>([0]);
    for (const p of positions) {
      const w = 2 ** (bits - 1 - p);
      const next = new Set<number>();
      for (const x of sums) for (const d of [-w, 0, w]) next.add(x + d);
      sums = next;
    }
    return (v) => sums.has(v);
  }
  return (v) => representable(v, positions, bits);
}
