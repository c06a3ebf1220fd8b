/**
 * rANS (range asymmetric numeral systems, J. Duda; the byte-wise variant of F. Giesen's
 * ryg_rans) over a tensor's codebook indices, with a static frequency table per tensor: what
 * packed format version 2 uses so that a layer costs about its entropy instead of
 * ceil(log2(levels)) bits per weight. Plain TypeScript: runs in Node and browsers.
 */
import { CsqError } from '@csq/core';

/** Frequencies sum to 2^RANS_SCALE_BITS. */
export const RANS_SCALE_BITS = 14;
/** Largest number of symbols (codebook levels) a rANS-coded tensor may have. */
export const RANS_MAX_SYMBOLS = 1 << 12;
/** Lower bound of the normalized state interval [RANS_L, 256 RANS_L). */
const RANS_L = 1 << 23;
const M = 1 << RANS_SCALE_BITS;
const MASK = M - 1;

function corrupt(what: string, message: string): CsqError {
  return new CsqError(
    'CSQ_PACKED_MANIFEST',
    `packed model is invalid: ${what}: ${message} The writer of this file is broken or the file was ` +
      'edited; export it again with `csq export`.',
  );
}

/** How often each symbol 0..L-1 occurs in `symbols`. */
export function symbolCounts(symbols: ArrayLike<number>, symbolCount: number): Uint32Array {
  const c = new Uint32Array(symbolCount);
  for (let k = 0; k < symbols.length; k++) c[symbols[k]!]!++;
  return c;
}

/** Zero-order entropy of the symbols with these counts, in bits (sum of -c log2(c / n)). */
export function entropyBits(counts: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < counts.length; i++) n += counts[i]!;
  let h = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (c > 0) h -= c * Math.log2(c / n);
  }
  return h;
}

/**
 * Frequencies (each >= 1, summing to 2^RANS_SCALE_BITS) proportional to `counts` (each >= 1):
 * rounded shares, then the excess taken from (or the deficit given to) the largest ones.
 */
export function quantizeFrequencies(counts: ArrayLike<number>): Uint32Array {
  const L = counts.length;
  if (L < 1 || L > RANS_MAX_SYMBOLS)
    throw new RangeError(`rANS needs 1..${RANS_MAX_SYMBOLS} symbols`);
  let n = 0;
  for (let i = 0; i < L; i++) n += counts[i]!;
  const f = new Uint32Array(L);
  let sum = 0;
  for (let i = 0; i < L; i++) {
    f[i] = Math.max(1, Math.round((counts[i]! * M) / n));
    sum += f[i]!;
  }
  const order = Array.from({ length: L }, (_, i) => i).sort((a, b) => f[b]! - f[a]!);
  if (sum < M) f[order[0]!]! += M - sum;
  for (let j = 0; sum > M && j < L; j++) {
    const i = order[j]!;
    const take = Math.min(sum - M, f[i]! - 1);
    f[i]! -= take;
    sum -= take;
  }
  return f;
}

/** Cumulative starts of `freqs`. */
function starts(freqs: ArrayLike<number>): Uint32Array {
  const s = new Uint32Array(freqs.length);
  for (let i = 1; i < freqs.length; i++) s[i] = s[i - 1]! + freqs[i - 1]!;
  return s;
}

/**
 * Encodes `symbols` (each < freqs.length, each with freqs[s] > 0) with the static table `freqs`
 * (summing to 2^RANS_SCALE_BITS). Output: the final state (4 bytes, little-endian) then the
 * renormalization bytes in the order the decoder reads them.
 */
export function ransEncode(symbols: ArrayLike<number>, freqs: ArrayLike<number>): Uint8Array {
  const start = starts(freqs);
  // bytes come out last-first; collect them reversed, then flip
  let buf = new Uint8Array(Math.max(16, symbols.length >> 1));
  let n = 0;
  const emit = (b: number) => {
    if (n === buf.length) {
      const bigger = new Uint8Array(buf.length * 2);
      bigger.set(buf);
      buf = bigger;
    }
    buf[n++] = b;
  };
  let x = RANS_L;
  for (let k = symbols.length - 1; k >= 0; k--) {
    const s = symbols[k]!;
    const f = freqs[s]!;
    const xMax = (RANS_L / M) * 256 * f;
    while (x >= xMax) {
      emit(x & 0xff);
      x = x >>> 8;
    }
    x = Math.floor(x / f) * M + (x % f) + start[s]!;
  }
  const out = new Uint8Array(4 + n);
  out[0] = x & 0xff;
  out[1] = (x >>> 8) & 0xff;
  out[2] = (x >>> 16) & 0xff;
  out[3] = (x >>> 24) & 0xff;
  for (let i = 0; i < n; i++) out[4 + i] = buf[n - 1 - i]!;
  return out;
}

/**
 * Decodes `count` symbols from a stream written by `ransEncode` with the same `freqs`. Checks
 * as it goes: a stream that runs out, leaves bytes over, or does not end in the encoder's
 * initial state is corrupt (a CsqError naming `what`). Time O(count + bytes), memory O(count).
 */
export function ransDecode(
  stream: Uint8Array,
  freqs: ArrayLike<number>,
  count: number,
  what: string,
): Uint32Array {
  const L = freqs.length;
  const lookup = new Uint16Array(M);
  const start = starts(freqs);
  let total = 0;
  for (let s = 0; s < L; s++) {
    const f = freqs[s]!;
    if (!Number.isInteger(f) || f < 1 || total + f > M) {
      throw corrupt(what, `rANS frequency ${s} = ${f} is impossible.`);
    }
    lookup.fill(s, total, total + f);
    total += f;
  }
  if (total !== M) throw corrupt(what, `rANS frequencies sum to ${total}, not ${M}.`);
  if (stream.length < 4) throw corrupt(what, 'rANS stream is shorter than its 4-byte state.');
  let x = (stream[0]! | (stream[1]! << 8) | (stream[2]! << 16) | (stream[3]! << 24)) >>> 0;
  if (x < RANS_L || x >= RANS_L * 256) throw corrupt(what, 'rANS state is out of range.');
  let at = 4;
  const out = new Uint32Array(count);
  for (let k = 0; k < count; k++) {
    const slot = x & MASK;
    const s = lookup[slot]!;
    out[k] = s;
    x = freqs[s]! * (x >>> RANS_SCALE_BITS) + slot - start[s]!;
    while (x < RANS_L) {
      if (at >= stream.length) throw corrupt(what, `rANS stream ends before weight ${k}.`);
      x = x * 256 + stream[at++]!;
    }
  }
  if (at !== stream.length || x !== RANS_L) {
    throw corrupt(what, 'rANS stream does not end where its weights end.');
  }
  return out;
}

/** Writes `v` (a non-negative integer below 2^35) as unsigned LEB128. */
export function writeVarint(v: number, out: number[]): void {
  let rest = v;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
}

/** Reads an unsigned LEB128 of at most 3 bytes (values below 2^21) at `at`. */
export function readVarint(bytes: Uint8Array, at: number, what: string): [number, number] {
  let v = 0;
  for (let i = 0; i < 3; i++) {
    if (at + i >= bytes.length) throw corrupt(what, 'the frequency table is cut short.');
    const b = bytes[at + i]!;
    v += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) return [v, at + i + 1];
  }
  throw corrupt(what, 'a frequency does not fit in 3 bytes.');
}
