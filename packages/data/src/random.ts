/**
 * Seeded randomness for data pipelines: a small PRNG, seed mixing, and deterministic shuffles.
 * Everything here is pure and runs the same in Node and in browsers.
 */
import { CsqError } from '@csq/core';

/**
 * A seeded PRNG (mulberry32): returns a function giving uniform numbers in [0, 1). The same seed
 * always gives the same sequence; 32 bits of state, fast, good enough for shuffles and
 * augmentation (not for cryptography).
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Mixes several integers into one 32-bit seed (a murmur3-style finaliser over each part), so
 * that (seed, epoch) or (seed, example index) pairs give unrelated streams.
 */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    let k = Math.trunc(part) >>> 0;
    // fold in the high bits of large integers (indices beyond 2^32 do not occur, but seeds might)
    const high = Math.floor(Math.trunc(part) / 4294967296) >>> 0;
    k ^= Math.imul(high, 0x85ebca6b);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniform integer in [0, n) from a generator of uniform numbers in [0, 1). */
export function randomInt(random: () => number, n: number): number {
  return Math.min(n - 1, Math.floor(random() * n));
}

function assertCount(count: number, what: string): void {
  if (!Number.isInteger(count) || count < 0) {
    throw new CsqError(
      'CSQ_DATA_BAD_COUNT',
      `${what} must be a non-negative integer, got ${String(count)}.`,
    );
  }
}

/**
 * Fisher-Yates shuffle of `array` in place with a seeded generator; returns the array.
 */
export function shuffleInPlace<T extends { length: number; [i: number]: number }>(
  array: T,
  random: () => number,
): T {
  for (let i = array.length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    const tmp = array[i]!;
    array[i] = array[j]!;
    array[j] = tmp;
  }
  return array;
}

/**
 * The order in which to visit `count` examples in epoch `epoch`: a permutation of 0..count-1
 * that depends only on (count, seed, epoch). Each epoch gets a fresh, unrelated order, and a
 * resumed run sees exactly the order an uninterrupted run would have seen.
 */
export function shuffledIndices(count: number, seed: number, epoch = 0): Int32Array {
  assertCount(count, 'count');
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  return shuffleInPlace(order, seededRandom(mixSeed(seed, epoch, 0x5eed)));
}
