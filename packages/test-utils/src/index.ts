/**
 * Shared test helpers for every csq package (private, never published).
 */
// The union package registers every gradient (tfjs-core alone registers none in Node).
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { expect } from 'vitest';

export interface CloseOptions {
  /** Relative tolerance, against |expected|. */
  rtol?: number;
  /** Absolute tolerance. */
  atol?: number;
}

function toNumbers(x: ArrayLike<number> | number): number[] {
  return typeof x === 'number' ? [x] : Array.from(x);
}

/**
 * Asserts |actual - expected| <= atol + rtol * |expected| element-wise (the one numeric check
 * every csq test uses). A plain number for `tol` is a relative tolerance with atol = tol.
 */
export function expectClose(
  actual: ArrayLike<number> | number,
  expected: ArrayLike<number> | number,
  tol: number | CloseOptions = 1e-6,
): void {
  const { rtol, atol } = typeof tol === 'number' ? { rtol: tol, atol: tol } : tol;
  const a = toNumbers(actual);
  const e = toNumbers(expected);
  expect(a.length, 'length').toBe(e.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < a.length; i++) {
    const ai = a[i]!;
    const ei = e[i]!;
    const bound = (atol ?? 0) + (rtol ?? 0) * Math.abs(ei);
    const diff = Math.abs(ai - ei);
    if (!(diff <= bound) && (Number.isNaN(diff) || diff - bound > worstExcess || worst < 0)) {
      worst = i;
      worstExcess = Number.isNaN(diff) ? Number.POSITIVE_INFINITY : diff - bound;
    }
  }
  if (worst >= 0) {
    expect.fail(
      `values differ at index ${worst}: actual ${a[worst]} vs expected ${e[worst]} ` +
        `(rtol ${rtol ?? 0}, atol ${atol ?? 0}, ${a.length} values)`,
    );
  }
}

/** The backends tensor tests run on by default (spec: cpu and wasm). */
export const TEST_BACKENDS = ['cpu', 'wasm'] as const;
export type TestBackend = (typeof TEST_BACKENDS)[number];

/** Switches tfjs to `name` and waits until it is ready. */
export async function useBackend(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`could not initialise the tfjs backend "${name}"`);
  await tf.ready();
}

/**
 * Central finite differences of a scalar function f at x (float64 arithmetic on a copy).
 */
export function finiteDifference(
  f: (x: Float64Array) => number,
  x: ArrayLike<number>,
  h = 1e-4,
): Float64Array {
  const base = Float64Array.from(x);
  const g = new Float64Array(base.length);
  for (let i = 0; i < base.length; i++) {
    const orig = base[i]!;
    base[i] = orig + h;
    const fp = f(base);
    base[i] = orig - h;
    const fm = f(base);
    base[i] = orig;
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}

/**
 * A small deterministic PRNG for test data: mulberry32, the generator of @csq/data's
 * `seededRandom`. A copy on purpose: the test helpers cannot depend on a package they test
 * (turbo sees the cycle).
 */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` uniform values in [lo, hi) from a seeded generator. */
export function uniform(n: number, lo: number, hi: number, seed = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}
