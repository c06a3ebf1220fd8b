/**
 * Integer codes of the exact model (spec 1) and bit-exact packing of them into byte streams.
 *
 * In the exact model every weight is s / (2^N - 1) times the integer
 * v = sum over selected positions i of 2^(N-1-i) (H(p_i) - H(n_i)). The digits are signed
 * (-1, 0, +1), so a layer with b selected positions can hold more than 2^b distinct integers:
 * all 2^(b+1) - 1 of -(2^b - 1)..(2^b - 1) when the positions are contiguous, up to 3^b when they
 * are spread out. `encodeLayerCodes` stores each weight as an index into the sorted list of the
 * integers the layer really uses, at ceil(log2(count)) bits: exactly b or fewer when the layer
 * uses at most 2^b of them, b + 1 at most for contiguous positions.
 */
import { heaviside, maxCode } from './bits.js';
import { assertBits, CsqError } from './errors.js';
import { selectedPositions } from './schedule.js';

/** The exact model of one layer as integers. */
export interface LayerCodes {
  /** One signed integer per weight, in [-(2^N - 1), 2^N - 1]. */
  codes: Int32Array;
  /** Selected bit positions (0 = MSB), ascending. */
  positions: number[];
}

/** Spec 1: the signed integer each weight of the exact model stands for, and the selected positions. */
export function exactCodes(args: {
  p: ArrayLike<number>;
  n: ArrayLike<number>;
  m: ArrayLike<number>;
  bits: number;
}): LayerCodes {
  const { p, n, m, bits } = args;
  assertBits(bits);
  if (m.length !== bits || p.length !== n.length || p.length % bits !== 0) {
    throw new CsqError(
      'CSQ_BAD_SHAPE',
      `exactCodes: m must have ${bits} logits and p, n the same length, a multiple of ${bits} ` +
        `(got m ${m.length}, p ${p.length}, n ${n.length}).`,
    );
  }
  const positions = selectedPositions(m, 'exact');
  const count = p.length / bits;
  const codes = new Int32Array(count);
  for (let k = 0; k < count; k++) {
    let v = 0;
    const o = k * bits;
    for (const i of positions)
      v += 2 ** (bits - 1 - i) * (heaviside(p[o + i]!) - heaviside(n[o + i]!));
    codes[k] = v;
  }
  return { codes, positions };
}

/**
 * Dequantises integer codes: w = v * fround(scale / (2^N - 1)), in float32, exactly as the exact
 * model computes it (`exactWeight`, `exactWeightTensor`).
 */
export function codesToWeights(
  codes: ArrayLike<number>,
  scale: number,
  bits: number,
): Float32Array {
  const q = maxCode(bits);
  // float32 step, then one float32 product per weight (the product of an integer below 2^17
  // and a float32 is exact in float64, so fround gives the correctly rounded float32 product)
  const step = Math.fround(Math.fround(scale) / q);
  const out = new Float32Array(codes.length);
  for (let k = 0; k < codes.length; k++) out[k] = codes[k]! * step;
  return out;
}

/** Largest width packBits supports. */
export const MAX_PACK_WIDTH = 24;

function assertWidth(width: number): void {
  if (!Number.isInteger(width) || width < 0 || width > MAX_PACK_WIDTH) {
    throw new CsqError(
      'CSQ_BAD_WIDTH',
      `pack width must be an integer in 0..${MAX_PACK_WIDTH}, got ${String(width)}.`,
    );
  }
}

/** Bytes needed for `count` values at `width` bits: ceil(count * width / 8). */
export function packedByteLength(count: number, width: number): number {
  assertWidth(width);
  return Math.ceil((count * width) / 8);
}

/**
 * Packs unsigned integers at exactly `width` bits each, most significant bit first, into
 * ceil(count * width / 8) bytes (the last byte zero-padded). Throws on a value that does not fit.
 */
export function packBits(values: ArrayLike<number>, width: number): Uint8Array {
  assertWidth(width);
  const out = new Uint8Array(packedByteLength(values.length, width));
  const limit = 2 ** width;
  let bitPos = 0;
  for (let k = 0; k < values.length; k++) {
    const v = values[k]!;
    if (!Number.isInteger(v) || v < 0 || v >= limit) {
      throw new CsqError(
        'CSQ_BAD_CODE',
        `value ${k} = ${v} does not fit in ${width} unsigned bits.`,
      );
    }
    for (let b = width - 1; b >= 0; b--) {
      if ((v >>> b) & 1) out[bitPos >>> 3]! |= 0x80 >>> (bitPos & 7);
      bitPos++;
    }
  }
  return out;
}

/** Inverse of packBits: reads `count` unsigned integers of `width` bits. */
export function unpackBits(bytes: Uint8Array, width: number, count: number): Uint32Array {
  assertWidth(width);
  const need = packedByteLength(count, width);
  if (bytes.length < need) {
    throw new CsqError(
      'CSQ_TRUNCATED',
      `packed data has ${bytes.length} bytes but ${count} values at ${width} bits need ${need}.`,
    );
  }
  const out = new Uint32Array(count);
  let bitPos = 0;
  for (let k = 0; k < count; k++) {
    let v = 0;
    for (let b = 0; b < width; b++) {
      v = v * 2 + ((bytes[bitPos >>> 3]! >>> (7 - (bitPos & 7))) & 1);
      bitPos++;
    }
    out[k] = v;
  }
  return out;
}

/** A layer's codes as a codebook of the integers it uses plus packed indices into it. */
export interface EncodedCodes {
  /** The distinct integers the layer uses, ascending. */
  levels: Int32Array;
  /** Bits per weight: ceil(log2(levels.length)) (0 when every weight is the same). */
  width: number;
  /** Indices into `levels`, packed with packBits at `width`. */
  data: Uint8Array;
  /** Number of weights. */
  count: number;
}

/** Bits needed to index `count` levels. */
export function indexWidth(levelCount: number): number {
  return levelCount <= 1 ? 0 : Math.ceil(Math.log2(levelCount));
}

/** Encodes a layer's integer codes losslessly at the smallest fixed width (see the module note). */
export function encodeLayerCodes(codes: ArrayLike<number>): EncodedCodes {
  const levels = Int32Array.from(new Set(Array.from(codes))).sort();
  const index = new Map<number, number>();
  for (let i = 0; i < levels.length; i++) index.set(levels[i]!, i);
  const width = indexWidth(levels.length);
  const symbols = new Uint32Array(codes.length);
  for (let k = 0; k < codes.length; k++) symbols[k] = index.get(codes[k]!)!;
  return { levels, width, data: packBits(symbols, width), count: codes.length };
}

/** Inverse of encodeLayerCodes. */
export function decodeLayerCodes(enc: EncodedCodes): Int32Array {
  const symbols = unpackBits(enc.data, enc.width, enc.count);
  const out = new Int32Array(enc.count);
  for (let k = 0; k < enc.count; k++) {
    const s = symbols[k]!;
    if (s >= enc.levels.length) {
      throw new CsqError(
        'CSQ_BAD_CODE',
        `weight ${k} refers to level ${s} but the layer has ${enc.levels.length} levels.`,
      );
    }
    out[k] = enc.levels[s]!;
  }
  return out;
}
