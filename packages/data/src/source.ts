/**
 * The data interface the trainer consumes: in-memory image sets and (possibly streaming)
 * image sources, both with uint8 NHWC pixels.
 */
import { CsqError } from '@csq/core';

/** An image data set in memory: NHWC uint8 pixels and int32 labels. */
export interface ImageSet {
  /** `count * height * width * channels` pixels, example-major, then row, column, channel. */
  images: Uint8Array;
  /** `count` labels in 0..numClasses-1. */
  labels: Int32Array;
  count: number;
  height: number;
  width: number;
  channels: number;
  numClasses: number;
  classNames?: string[];
}

/** Options of {@link ImageSource.read}. */
export interface ReadOptions {
  /** Train-time reads: sources that crop (image folders) do random-resized-crop and flip. */
  train?: boolean;
  /** Makes train-time cropping deterministic (default 0). */
  seed?: number;
}

/** What the trainer consumes: an in-memory or streaming source of images and labels. */
export interface ImageSource {
  count: number;
  height: number;
  width: number;
  channels: number;
  numClasses: number;
  classNames?: string[];
  /**
   * Pixels (uint8 NHWC, already decoded/resized/cropped to height x width) and labels of
   * examples `indices`, in that order. `train` selects train-time augmentation for sources that
   * crop (image folders); `seed` makes it deterministic.
   */
  read(
    indices: ArrayLike<number>,
    opts?: ReadOptions,
  ): Promise<{ images: Uint8Array; labels: Int32Array }>;
  /** Releases resources (worker threads, file handles); in-memory sources have none. */
  close?(): Promise<void>;
}

/** A data set ready for training: train and test sources and the normalisation constants. */
export interface DataSplits {
  name: string;
  train: ImageSource;
  test: ImageSource;
  /** Per-channel mean of x/255 (normalise as (x/255 - mean[c]) / std[c]). */
  mean: number[];
  /** Per-channel standard deviation of x/255. */
  std: number[];
}

function positiveInt(x: number): boolean {
  return Number.isInteger(x) && x > 0;
}

/**
 * Checks that an ImageSet is self-consistent (sizes agree, labels in range); throws a CsqError
 * naming `what` and the first problem otherwise.
 */
export function validateImageSet(set: ImageSet, what = 'image set'): void {
  const { count, height, width, channels, numClasses } = set;
  if (!Number.isInteger(count) || count < 0) {
    throw new CsqError(
      'CSQ_DATA_BAD_SET',
      `${what}: count must be a non-negative integer, got ${String(count)}.`,
    );
  }
  for (const [key, value] of [
    ['height', height],
    ['width', width],
    ['channels', channels],
    ['numClasses', numClasses],
  ] as const) {
    if (!positiveInt(value)) {
      throw new CsqError(
        'CSQ_DATA_BAD_SET',
        `${what}: ${key} must be a positive integer, got ${String(value)}.`,
      );
    }
  }
  const expected = count * height * width * channels;
  if (!(set.images instanceof Uint8Array) || set.images.length !== expected) {
    throw new CsqError(
      'CSQ_DATA_BAD_SET',
      `${what}: images must be a Uint8Array of count*height*width*channels = ${expected} ` +
        `pixels, got ${set.images instanceof Uint8Array ? set.images.length : typeof set.images}.`,
    );
  }
  if (!(set.labels instanceof Int32Array) || set.labels.length !== count) {
    throw new CsqError(
      'CSQ_DATA_BAD_SET',
      `${what}: labels must be an Int32Array of ${count} labels, got ` +
        `${set.labels instanceof Int32Array ? set.labels.length : typeof set.labels}.`,
    );
  }
  for (let i = 0; i < count; i++) {
    const label = set.labels[i]!;
    if (label < 0 || label >= numClasses) {
      throw new CsqError(
        'CSQ_DATA_BAD_LABEL',
        `${what}: label ${label} of example ${i} is outside 0..${numClasses - 1}; ` +
          `fix the labels or raise numClasses.`,
      );
    }
  }
  if (set.classNames && set.classNames.length !== numClasses) {
    throw new CsqError(
      'CSQ_DATA_BAD_SET',
      `${what}: ${set.classNames.length} class names given for ${numClasses} classes.`,
    );
  }
}

/** Throws a CsqError unless every index is an integer in 0..count-1. */
export function assertIndices(indices: ArrayLike<number>, count: number, what: string): void {
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i]!;
    if (!Number.isInteger(k) || k < 0 || k >= count) {
      throw new CsqError(
        'CSQ_DATA_BAD_INDEX',
        `${what}: example index ${String(k)} (position ${i}) is outside 0..${count - 1}.`,
      );
    }
  }
}

/**
 * An ImageSource over an in-memory ImageSet (validated once). `read` copies the requested
 * examples; `train` and `seed` are ignored (augment batches with `randomCropFlip`).
 */
export function arraySource(set: ImageSet): ImageSource {
  validateImageSet(set);
  const { count, height, width, channels, numClasses } = set;
  const stride = height * width * channels;
  const source: ImageSource = {
    count,
    height,
    width,
    channels,
    numClasses,
    read: async (indices) => {
      assertIndices(indices, count, 'arraySource.read');
      const n = indices.length;
      const images = new Uint8Array(n * stride);
      const labels = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const k = indices[i]!;
        images.set(set.images.subarray(k * stride, (k + 1) * stride), i * stride);
        labels[i] = set.labels[k]!;
      }
      return { images, labels };
    },
  };
  if (set.classNames) source.classNames = set.classNames.slice();
  return source;
}

/**
 * The first `count` examples of `source` (for `--limit-train N`); the source itself when it has
 * no more than that. Closing the view closes the underlying source.
 */
export function takeSource(source: ImageSource, count: number): ImageSource {
  if (!Number.isInteger(count) || count < 1) {
    throw new CsqError(
      'CSQ_DATA_BAD_COUNT',
      `the number of examples to keep must be a positive integer, got ${String(count)}.`,
    );
  }
  if (count >= source.count) return source;
  const view: ImageSource = {
    count,
    height: source.height,
    width: source.width,
    channels: source.channels,
    numClasses: source.numClasses,
    read: async (indices, opts) => {
      assertIndices(indices, count, 'takeSource.read');
      return source.read(indices, opts);
    },
  };
  if (source.classNames) view.classNames = source.classNames;
  if (source.close) view.close = () => source.close!();
  return view;
}

/** Reads every example of `source` into memory (in order 0..count-1) as an ImageSet. */
export async function readAll(source: ImageSource, opts?: ReadOptions): Promise<ImageSet> {
  const indices = new Int32Array(source.count);
  for (let i = 0; i < source.count; i++) indices[i] = i;
  const { images, labels } = await source.read(indices, opts);
  const set: ImageSet = {
    images,
    labels,
    count: source.count,
    height: source.height,
    width: source.width,
    channels: source.channels,
    numClasses: source.numClasses,
  };
  if (source.classNames) set.classNames = source.classNames;
  return set;
}
