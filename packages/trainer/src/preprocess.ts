/**
 * The default pixel pipeline of the loop, from @csq/data: train-time zero-padded random crop and
 * horizontal flip (spec 6), then per-channel normalisation.
 */
import { normalize, randomCropFlip, shuffledIndices } from '@csq/data';
import type { TrainConfig } from '@csq/run-format';
import type { Preprocess } from './batches.js';

/** Augment (train batches, when the config asks) then normalise with mean/std. */
export function defaultPreprocess(
  cfg: Pick<TrainConfig, 'augment'>,
  mean: readonly number[],
  std: readonly number[],
): Preprocess {
  const { cropPad, flip } = cfg.augment;
  const augments = cropPad > 0 || flip;
  return (pixels, shape, { train, seed }) => {
    const src =
      train && augments ? randomCropFlip(pixels, shape, { pad: cropPad, flip, seed }) : pixels;
    return normalize(src, mean, std);
  };
}

/** Visiting order of `count` training examples in `epoch` (depends only on count, seed, epoch). */
export function shuffledOrder(count: number, seed: number, epoch: number): Int32Array {
  return shuffledIndices(count, seed, epoch);
}
