/**
 * Batch index iteration: which example indices make up each batch of an epoch.
 */
import { CsqError } from '@csq/core';
import { shuffledIndices } from './random.js';

/** Options of {@link epochBatches}. */
export interface EpochBatchOptions {
  /** Shuffle with (seed, epoch) (default true); false keeps 0..count-1 in order. */
  shuffle?: boolean;
  /** Seed of the shuffle (default 0). */
  seed?: number;
  /** Epoch number (0-based): each epoch gets its own order (default 0). */
  epoch?: number;
  /** Drop a last batch smaller than `batchSize` (default false). */
  dropLast?: boolean;
}

function assertBatchSize(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new CsqError(
      'CSQ_DATA_BAD_BATCH',
      `batch size must be a positive integer, got ${String(batchSize)}; use for example 128.`,
    );
  }
}

/** Number of batches an epoch of `count` examples has at `batchSize`. */
export function batchCount(count: number, batchSize: number, dropLast = false): number {
  assertBatchSize(batchSize);
  return dropLast ? Math.floor(count / batchSize) : Math.ceil(count / batchSize);
}

/**
 * Splits `order` (a visiting order of example indices) into consecutive batches of
 * `batchSize` indices; the last one is smaller unless `dropLast`. Each batch is a fresh
 * Int32Array.
 */
export function* batchIndices(
  order: ArrayLike<number>,
  batchSize: number,
  dropLast = false,
): Generator<Int32Array, void, undefined> {
  assertBatchSize(batchSize);
  const n = order.length;
  const end = dropLast ? n - (n % batchSize) : n;
  for (let start = 0; start < end; start += batchSize) {
    const size = Math.min(batchSize, end - start);
    const batch = new Int32Array(size);
    for (let i = 0; i < size; i++) batch[i] = order[start + i]!;
    yield batch;
  }
}

/**
 * The batches of one epoch over `count` examples: shuffled with (seed, epoch) by default
 * (see {@link shuffledIndices}), then cut into batches of `batchSize`.
 */
export function epochBatches(
  count: number,
  batchSize: number,
  opts: EpochBatchOptions = {},
): Generator<Int32Array, void, undefined> {
  const { shuffle = true, seed = 0, epoch = 0, dropLast = false } = opts;
  let order: Int32Array;
  if (shuffle) {
    order = shuffledIndices(count, seed, epoch);
  } else {
    if (!Number.isInteger(count) || count < 0) {
      throw new CsqError(
        'CSQ_DATA_BAD_COUNT',
        `count must be a non-negative integer, got ${String(count)}.`,
      );
    }
    order = new Int32Array(count);
    for (let i = 0; i < count; i++) order[i] = i;
  }
  return batchIndices(order, batchSize, dropLast);
}
