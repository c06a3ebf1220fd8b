/**
 * Deterministic test data without vitest (the page bundle cannot import @csq/test-utils, which
 * imports vitest): the same mulberry32 generator as @csq/test-utils' `rng`, @csq/data's
 * `seededRandom`.
 */
import { seededRandom } from '@csq/data';
export const mulberry32: (seed: number) => () => number = seededRandom;

/** `n` uniform values in [lo, hi) from seed `seed`. */
export function uniformArray(n: number, lo: number, hi: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}
