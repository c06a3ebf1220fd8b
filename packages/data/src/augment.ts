/**
 * Train-time augmentation and normalisation on uint8 NHWC batches (typed arrays only).
 * The CIFAR recipe of the paper (spec 6) uses random crop with 4 pixels of zero padding,
 * horizontal flip, and per-channel normalisation with the constants below.
 */
import { CsqError } from '@csq/core';
import { mixSeed, randomInt, seededRandom } from './random.js';

/** Per-channel mean of CIFAR-10 training pixels (x/255), R, G, B. */
export const CIFAR10_MEAN: readonly number[] = Object.freeze([0.4914, 0.4822, 0.4465]);
/** Per-channel standard deviation used with {@link CIFAR10_MEAN}. */
export const CIFAR10_STD: readonly number[] = Object.freeze([0.2023, 0.1994, 0.201]);
/** Mean of MNIST training pixels (x/255). */
export const MNIST_MEAN: readonly number[] = Object.freeze([0.1307]);
/** Standard deviation of MNIST training pixels (x/255). */
export const MNIST_STD: readonly number[] = Object.freeze([0.3081]);
/** Per-channel mean of ImageNet pixels (x/255), R, G, B (the torchvision constants). */
export const IMAGENET_MEAN: readonly number[] = Object.freeze([0.485, 0.456, 0.406]);
/** Per-channel standard deviation used with {@link IMAGENET_MEAN}. */
export const IMAGENET_STD: readonly number[] = Object.freeze([0.229, 0.224, 0.225]);
/** The CIFAR-10 class names, in label order. */
export const CIFAR10_CLASSES: readonly string[] = Object.freeze([
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
]);

/** Height, width and channels of the images in a batch. */
export interface ImageShape {
  height: number;
  width: number;
  channels: number;
}

/** Options of {@link randomCropFlip}. */
export interface CropFlipOptions {
  /** Zero padding on each side before the random crop back to height x width (default 0). */
  pad?: number;
  /** Mirror left-right with probability 1/2 (default true). */
  flip?: boolean;
  /** Seed: the same seed and batch give the same output. Mix in epoch and batch numbers. */
  seed: number;
  /** Where to write (length of `images`); a new array by default. Must not alias `images`. */
  out?: Uint8Array;
}

function checkShape(length: number, shape: ImageShape, what: string): number {
  const { height, width, channels } = shape;
  for (const [key, v] of Object.entries({ height, width, channels })) {
    if (!Number.isInteger(v) || v < 1) {
      throw new CsqError(
        'CSQ_DATA_BAD_SHAPE',
        `${what}: ${key} must be a positive integer, got ${String(v)}.`,
      );
    }
  }
  const stride = height * width * channels;
  if (length % stride !== 0) {
    throw new CsqError(
      'CSQ_DATA_BAD_SHAPE',
      `${what}: ${length} values are not a whole number of ${height}x${width}x${channels} ` +
        `images; pass the batch's real shape.`,
    );
  }
  return length / stride;
}

/**
 * Random crop with zero padding then horizontal flip, per example (torchvision's
 * `RandomCrop(size, padding=pad)` then `RandomHorizontalFlip()`): for each image, offsets
 * dy, dx are drawn uniformly from 0..2*pad and a flip bit with probability 1/2; output pixel
 * (y, x) is input (y + dy - pad, x' + dx - pad), zero outside the image, where x' = width-1-x
 * when flipped and x otherwise. Draws per example, in order: dy, dx, flip.
 */
export function randomCropFlip(
  images: Uint8Array,
  shape: ImageShape,
  opts: CropFlipOptions,
): Uint8Array {
  const count = checkShape(images.length, shape, 'randomCropFlip');
  const { height: h, width: w, channels: c } = shape;
  const pad = opts.pad ?? 0;
  const flip = opts.flip ?? true;
  if (!Number.isInteger(pad) || pad < 0) {
    throw new CsqError(
      'CSQ_DATA_BAD_PAD',
      `randomCropFlip: pad must be a non-negative integer, got ${String(pad)}; CIFAR uses 4.`,
    );
  }
  const out = opts.out ?? new Uint8Array(images.length);
  if (out.length !== images.length) {
    throw new CsqError(
      'CSQ_DATA_BAD_SHAPE',
      `randomCropFlip: out has ${out.length} values, the batch ${images.length}.`,
    );
  }
  if (out.buffer === images.buffer && out.byteOffset === images.byteOffset) {
    throw new CsqError('CSQ_DATA_BAD_SHAPE', 'randomCropFlip: out must not be the input array.');
  }
  const random = seededRandom(mixSeed(opts.seed, 0xc209));
  const stride = h * w * c;
  const row = w * c;
  for (let n = 0; n < count; n++) {
    const dy = pad > 0 ? randomInt(random, 2 * pad + 1) - pad : 0;
    const dx = pad > 0 ? randomInt(random, 2 * pad + 1) - pad : 0;
    const mirror = flip && random() < 0.5;
    const base = n * stride;
    for (let y = 0; y < h; y++) {
      const sy = y + dy;
      const outRow = base + y * row;
      if (sy < 0 || sy >= h) {
        out.fill(0, outRow, outRow + row);
        continue;
      }
      const inRow = base + sy * row;
      for (let x = 0; x < w; x++) {
        const sx = (mirror ? w - 1 - x : x) + dx;
        const o = outRow + x * c;
        if (sx < 0 || sx >= w) {
          for (let k = 0; k < c; k++) out[o + k] = 0;
        } else {
          const i = inRow + sx * c;
          for (let k = 0; k < c; k++) out[o + k] = images[i + k]!;
        }
      }
    }
  }
  return out;
}

/**
 * Normalises uint8 NHWC pixels into float32: `(x/255 - mean[c]) / std[c]` for channel c.
 * `mean` and `std` have one entry per channel.
 */
export function normalize(
  images: Uint8Array,
  mean: ArrayLike<number>,
  std: ArrayLike<number>,
  out?: Float32Array,
): Float32Array {
  const c = mean.length;
  if (c < 1 || std.length !== c) {
    throw new CsqError(
      'CSQ_DATA_BAD_NORM',
      `normalize: mean and std need one entry per channel, got ${mean.length} and ${std.length}.`,
    );
  }
  if (images.length % c !== 0) {
    throw new CsqError(
      'CSQ_DATA_BAD_SHAPE',
      `normalize: ${images.length} pixels are not a multiple of ${c} channels.`,
    );
  }
  const result = out ?? new Float32Array(images.length);
  if (result.length !== images.length) {
    throw new CsqError(
      'CSQ_DATA_BAD_SHAPE',
      `normalize: out has ${result.length} values, the batch ${images.length}.`,
    );
  }
  // 256-entry lookup table per channel: exact float64 formula, rounded once to float32
  const table = new Float32Array(256 * c);
  for (let k = 0; k < c; k++) {
    const m = mean[k]!;
    const s = std[k]!;
    if (!Number.isFinite(m) || !Number.isFinite(s) || !(s > 0)) {
      throw new CsqError(
        'CSQ_DATA_BAD_NORM',
        `normalize: channel ${k} needs a finite mean and a positive std, got ${m} and ${s}.`,
      );
    }
    for (let v = 0; v < 256; v++) table[v * c + k] = (v / 255 - m) / s;
  }
  for (let i = 0, k = 0; i < images.length; i++) {
    result[i] = table[images[i]! * c + k]!;
    k = k + 1 === c ? 0 : k + 1;
  }
  return result;
}
