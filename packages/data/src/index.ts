/**
 * @csq/data: the data side of csq training. This entry is universal (no Node imports): data
 * interfaces, deterministic shuffling and batching, augmentation and normalisation on typed
 * arrays. File loaders, image decoding and downloads are in `@csq/data/node`.
 */

export {
  CIFAR10_CLASSES,
  CIFAR10_MEAN,
  CIFAR10_STD,
  type CropFlipOptions,
  IMAGENET_MEAN,
  IMAGENET_STD,
  type ImageShape,
  MNIST_MEAN,
  MNIST_STD,
  normalize,
  randomCropFlip,
} from './augment.js';
export { batchCount, batchIndices, type EpochBatchOptions, epochBatches } from './batches.js';
export {
  type CenterCropPlan,
  type CropBox,
  centerCropPlan,
  type RandomResizedCropOptions,
  randomResizedCropBox,
  roundHalfEven,
} from './crop.js';
export { mixSeed, randomInt, seededRandom, shuffledIndices, shuffleInPlace } from './random.js';
export {
  arraySource,
  assertIndices,
  type DataSplits,
  type ImageSet,
  type ImageSource,
  type ReadOptions,
  readAll,
  takeSource,
  validateImageSet,
} from './source.js';
export {
  DATA_SPEC_FORMS,
  type DataSpec,
  dataSpecHelp,
  formatDataSpec,
  parseDataSpec,
} from './spec.js';
