/**
 * From an ImageSource to tensors: read the examples, apply train-time augmentation on the
 * uint8 pixels (deterministic in the seed), normalise per channel, make the batch tensors.
 */
import type { ImageSource } from '@csq/data';
import * as tf from '@tensorflow/tfjs-core';

/** Turns a batch of uint8 NHWC pixels into normalised float32 (augmenting when `train`). */
export type Preprocess = (
  pixels: Uint8Array,
  shape: { count: number; height: number; width: number; channels: number },
  opts: { train: boolean; seed: number },
) => Float32Array;

/** A batch ready for the model. */
export interface Batch {
  x: tf.Tensor4D;
  /** Integer class labels, int32 [n]. */
  labels: tf.Tensor1D;
  count: number;
}

/** Raw pixels and labels of a batch, as read from the source. */
export interface RawBatch {
  images: Uint8Array;
  labels: Int32Array;
  count: number;
  seed: number;
  train: boolean;
}

/** Reads `indices` from `source` (asynchronous: image folders decode in worker threads). */
export async function readBatch(
  source: ImageSource,
  indices: ArrayLike<number>,
  opts: { train: boolean; seed: number },
): Promise<RawBatch> {
  const { images, labels } = await source.read(indices, opts);
  return { images, labels, count: indices.length, ...opts };
}

/** Preprocesses a raw batch and makes its tensors. */
export function toTensors(source: ImageSource, raw: RawBatch, preprocess: Preprocess): Batch {
  const shape = {
    count: raw.count,
    height: source.height,
    width: source.width,
    channels: source.channels,
  };
  const values = preprocess(raw.images, shape, { train: raw.train, seed: raw.seed });
  return {
    x: tf.tensor4d(values, [raw.count, source.height, source.width, source.channels]),
    labels: tf.tensor1d(Int32Array.from(raw.labels), 'int32'),
    count: raw.count,
  };
}

/** readBatch then toTensors. */
export async function makeBatch(
  source: ImageSource,
  indices: ArrayLike<number>,
  opts: { train: boolean; seed: number; preprocess: Preprocess },
): Promise<Batch> {
  return toTensors(source, await readBatch(source, indices, opts), opts.preprocess);
}
