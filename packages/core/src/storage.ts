/**
 * Bits on disk of a quantized kernel (the `storage` budget mode): how many bits per weight the
 * packed format (version 1, docs/packed-format.md) spends on the indices of a layer whose exact
 * model selects some bit positions.
 *
 * CSQ digits are signed (spec 1), so the selected positions P of an N-bit layer can encode every
 * integer sum_{i in P} 2^(N-1-i) d_i with d_i in {-1, 0, +1}: 2^(b+1) - 1 values when the b
 * positions are contiguous, up to 3^b when they are spread out. Version 1 of the packed format
 * stores each weight as an index into the layer's codebook at the fixed width
 * ceil(log2(levels)), levels = the distinct codes the layer uses, at most min(count, reachable
 * codes). The storage count of a layer is that width for the worst case (every reachable code
 * used): the most its indices can take for those positions, whatever the digits become.
 */
import { indexWidth } from './codes.js';
import { assertBits, CsqError } from './errors.js';

const reachableCache = new Map<string, number>();

function assertPositions(positions: readonly number[], bits: number): void {
  let prev = -1;
  for (const i of positions) {
    if (!Number.isInteger(i) || i <= prev || i >= bits) {
      throw new CsqError(
        'CSQ_BAD_POSITIONS',
        `selected bit positions must be strictly ascending integers in 0..${bits - 1}, got ` +
          `[${positions.join(', ')}].`,
      );
    }
    prev = i;
  }
}

/**
 * Number of distinct integer codes sum_{i in positions} 2^(N-1-i) d_i, d_i in {-1, 0, +1}, that
 * the selected positions of an N-bit layer can encode (1 for no position: the code 0).
 */
export function reachableCodeCount(positions: readonly number[], bits: number): number {
  assertBits(bits);
  assertPositions(positions, bits);
  const key = `${bits}:${positions.join(',')}`;
  const hit = reachableCache.get(key);
  if (hit !== undefined) return hit;
  const max = 2 ** bits - 1;
  // bitmap over -max..max; every step adds -v, 0 or +v to each reachable value
  let cur = new Uint8Array(2 * max + 1);
  cur[max] = 1;
  for (const i of positions) {
    const v = 2 ** (bits - 1 - i);
    const next = new Uint8Array(cur.length);
    for (let k = 0; k < cur.length; k++) {
      if (!cur[k]) continue;
      next[k] = 1;
      if (k - v >= 0) next[k - v] = 1;
      if (k + v < next.length) next[k + v] = 1;
    }
    cur = next;
  }
  let count = 0;
  for (let k = 0; k < cur.length; k++) count += cur[k]!;
  reachableCache.set(key, count);
  return count;
}

/**
 * Bits per weight the packed file (format v1) spends on a layer's indices at most, for these
 * selected positions: ceil(log2(min(count, reachable codes))) (0 for a layer with no position
 * or a single weight). A 1-bit layer is ternary: 2 bits. `count` is the number of weights.
 */
export function storageBits(positions: readonly number[], bits: number, count: number): number {
  if (!Number.isInteger(count) || count < 1) {
    throw new CsqError('CSQ_BAD_PARAMS', `count must be a positive integer, got ${String(count)}.`);
  }
  return indexWidth(Math.min(count, reachableCodeCount(positions, bits)));
}

/** The storage bits of a layer with all N positions selected: its starting size on disk. */
export function fullStorageBits(bits: number, count: number): number {
  return storageBits(
    Array.from({ length: bits }, (_, i) => i),
    bits,
    count,
  );
}

/**
 * The smallest storage bits any choice of `selected` positions out of N can take: the
 * contiguous choice (2^(b+1) - 1 codes) is the most compact, so this is
 * ceil(log2(min(count, 2^(b+1) - 1))).
 */
export function minStorageBits(selected: number, bits: number, count: number): number {
  return storageBits(
    Array.from({ length: selected }, (_, i) => i),
    bits,
    count,
  );
}
