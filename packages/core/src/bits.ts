/**
 * Spec 1: a weight made of bit planes behind sigmoid gates. Typed-array reference
 * implementations (float64 arithmetic, float32 results); layout: one weight's N bits are
 * contiguous, bit axis last, index 0 = most significant bit.
 */
import { assertBits, assertFinite, CsqError } from './errors.js';

/** Number of non-zero magnitude levels of an N-bit code: 2^N - 1. */
export function maxCode(bits: number): number {
  assertBits(bits);
  return 2 ** bits - 1;
}

/** Spec 1: the constant bit weights e_i = 2^(N-1-i) / (2^N - 1), i = 0..N-1. */
export function bitPlaneWeights(bits: number): Float64Array {
  const denom = maxCode(bits);
  const e = new Float64Array(bits);
  for (let i = 0; i < bits; i++) e[i] = 2 ** (bits - 1 - i) / denom;
  return e;
}

/** Round half to even, as torch.round and tf.round do. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The logistic function. */
export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** The Heaviside step of spec 1: H(x) = 1 if x > 0 else 0. */
export function heaviside(x: number): number {
  return x > 0 ? 1 : 0;
}

/** max |w| over an array (0 for an empty array); throws on NaN or infinity. */
export function maxAbs(w: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < w.length; i++) {
    const a = Math.abs(w[i]!);
    if (!Number.isFinite(a)) {
      throw new CsqError(
        'CSQ_NON_FINITE_WEIGHT',
        `weight ${i} is ${w[i]}; bit planes can only be initialised from finite weights. ` +
          'Check the float model (or its initializer) for NaN/Inf first.',
      );
    }
    if (a > s) s = a;
  }
  return s;
}

/**
 * The N-bit uniform quantisation of w that spec 1's initialisation encodes:
 * s * sign(w) * round(|w| (2^N - 1) / s) / (2^N - 1), s = max|w|.
 */
export function quantizeUniform(w: ArrayLike<number>, bits: number): Float32Array {
  const q = maxCode(bits);
  const s = maxAbs(w);
  const out = new Float32Array(w.length);
  if (s === 0) return out;
  for (let k = 0; k < w.length; k++) {
    const x = w[k]!;
    out[k] = (Math.sign(x) * s * roundHalfEven((Math.abs(x) * q) / s)) / q;
  }
  return out;
}

/** Bit planes (and scale) of a layer, spec 1 layout. */
export interface BitPlanes {
  /** Positive-part planes, length `w.length * bits`, values 0 or 1 (or logits). */
  p: Float32Array;
  /** Negative-part planes, same layout as `p`. */
  n: Float32Array;
  /** The layer scale s = max|w|. */
  scale: number;
}

function writeDigits(
  out: Float32Array,
  offset: number,
  value: number,
  bits: number,
  one: number,
  zero: number,
): void {
  let rest = value;
  for (let i = 0; i < bits; i++) {
    const place = 2 ** (bits - 1 - i);
    const digit = rest >= place ? 1 : 0;
    rest -= digit * place;
    out[offset + i] = digit === 1 ? one : zero;
  }
}

function planesFrom(w: ArrayLike<number>, bits: number, one: number, zero: number): BitPlanes {
  const q = maxCode(bits);
  const scale = maxAbs(w);
  const p = new Float32Array(w.length * bits);
  const n = new Float32Array(w.length * bits);
  if (zero !== 0) {
    p.fill(zero);
    n.fill(zero);
  }
  if (scale === 0) return { p, n, scale };
  for (let k = 0; k < w.length; k++) {
    const x = w[k]!;
    const qp = roundHalfEven((Math.max(x, 0) * q) / scale);
    const qn = roundHalfEven((Math.max(-x, 0) * q) / scale);
    writeDigits(p, k * bits, qp, bits, one, zero);
    writeDigits(n, k * bits, qn, bits, one, zero);
  }
  return { p, n, scale };
}

/**
 * Spec 1 initialisation from a float weight: s = max|w|, q+ = round(max(w,0)(2^N-1)/s),
 * q- = round(max(-w,0)(2^N-1)/s); p and n hold their binary digits (MSB first) as 0.0/1.0.
 */
export function initBitPlanes(w: ArrayLike<number>, bits: number): BitPlanes {
  assertBits(bits);
  return planesFrom(w, bits, 1, 0);
}

/**
 * Spec 1 conversion initialisation for an already trained float model: each digit becomes a
 * logit +a (digit 1) or -a (digit 0), and every mask logit is +a, so the exact weight equals
 * the N-bit quantisation of w and the soft weight approaches it as beta grows.
 */
export function initBitPlaneLogits(
  w: ArrayLike<number>,
  bits: number,
  logit = 6,
): BitPlanes & { m: Float32Array } {
  assertBits(bits);
  assertFinite(logit, 'logit', { positive: true });
  const planes = planesFrom(w, bits, logit, -logit);
  return { ...planes, m: initMask(bits, logit) };
}

/** Spec 1: mask logits, every one set to s0 (default 0). */
export function initMask(bits: number, s0 = 0): Float32Array {
  assertBits(bits);
  assertFinite(s0, 's0');
  return new Float32Array(bits).fill(s0);
}

/** Arguments of the weight formulas of spec 1. */
export interface WeightArgs {
  p: ArrayLike<number>;
  n: ArrayLike<number>;
  m: ArrayLike<number>;
  scale: number;
  bits: number;
}

function checkArgs({ p, n, m, bits }: WeightArgs): number {
  assertBits(bits);
  if (m.length !== bits) {
    throw new CsqError(
      'CSQ_BAD_SHAPE',
      `mask m has ${m.length} logits but bits is ${bits}; m needs one logit per bit.`,
    );
  }
  if (p.length !== n.length || p.length % bits !== 0) {
    throw new CsqError(
      'CSQ_BAD_SHAPE',
      `p (${p.length}) and n (${n.length}) must have the same length, a multiple of bits (${bits}).`,
    );
  }
  return p.length / bits;
}

function combine(args: WeightArgs, gate: Float64Array, digit: (x: number) => number): Float32Array {
  const count = checkArgs(args);
  const { p, n, scale, bits } = args;
  const e = bitPlaneWeights(bits);
  const c = new Float64Array(bits);
  for (let i = 0; i < bits; i++) c[i] = e[i]! * gate[i]!;
  const out = new Float32Array(count);
  for (let k = 0; k < count; k++) {
    let acc = 0;
    const o = k * bits;
    for (let i = 0; i < bits; i++) acc += c[i]! * (digit(p[o + i]!) - digit(n[o + i]!));
    out[k] = scale * acc;
  }
  return out;
}

/**
 * Spec 1 soft weight: W = s * sum_i e_i sigma(beta m_i) (sigma(beta p_i) - sigma(beta n_i)).
 * With `hardMask` (the ticket phase of spec 2) the mask gate is H(m_i) instead.
 */
export function softWeight(args: WeightArgs & { beta: number; hardMask?: boolean }): Float32Array {
  const { m, beta, bits } = args;
  assertFinite(beta, 'beta', { positive: true });
  const gate = new Float64Array(bits);
  for (let i = 0; i < bits; i++) gate[i] = args.hardMask ? heaviside(m[i]!) : sigmoid(beta * m[i]!);
  return combine(args, gate, (x) => sigmoid(beta * x));
}

/**
 * Spec 1 exact (Heaviside) weight: W = s * sum_i e_i H(m_i) (H(p_i) - H(n_i)), as the integer code
 * v = sum_i 2^(N-1-i) H(m_i) (H(p_i) - H(n_i)) times the float32 step fround(s / (2^N - 1)), the
 * rounding every exact path in csq shares (export included).
 */
export function exactWeight(args: WeightArgs): Float32Array {
  const count = checkArgs(args);
  const { p, n, m, scale, bits } = args;
  const step = Math.fround(Math.fround(scale) / maxCode(bits));
  const out = new Float32Array(count);
  for (let k = 0; k < count; k++) {
    let v = 0;
    for (let i = 0; i < bits; i++) {
      if (m[i]! > 0)
        v += 2 ** (bits - 1 - i) * (heaviside(p[k * bits + i]!) - heaviside(n[k * bits + i]!));
    }
    out[k] = v * step;
  }
  return out;
}
