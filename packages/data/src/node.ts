/**
 * @csq/data/node: the Node loaders (embedded MNIST, IDX, CIFAR-10, image folders decoded in
 * worker threads, downloads with checksums, data specs), plus everything of `@csq/data`.
 */

export {
  CIFAR10_RECORD_BYTES,
  CIFAR10_SUBDIR,
  CIFAR10_TEST_FILE,
  CIFAR10_TRAIN_FILES,
  loadCifar10,
  parseCifar10Batch,
  resolveCifar10Dir,
} from './cifar10.js';
export { DecodePool, defaultWorkerCount } from './decode-pool.js';
export {
  CIFAR10_ARCHIVE,
  CIFAR10_BASE_URL,
  DATASET_MD5,
  type DownloadOptions,
  type DownloadProgress,
  type DownloadResult,
  download,
  type FetchLike,
  fetchVerified,
  MNIST_BASE_URL,
  md5File,
  removeStaleParts,
} from './download.js';
export {
  IDX_FILES,
  IDX_IMAGES_MAGIC,
  IDX_LABELS_MAGIC,
  type IdxOptions,
  loadIdx,
  parseIdx,
  pixelStats,
  readIdxImages,
  readIdxLabels,
} from './idx.js';
export {
  IMAGE_EXTENSIONS,
  type ImageFolderOptions,
  type ImageFolderSource,
  type ImageFolderSplitOptions,
  imageFolderSource,
  loadImageFolder,
} from './image-folder.js';
export * from './index.js';
export { type LoadDataOptions, loadData } from './load-data.js';
export {
  type EmbeddedMnistOptions,
  loadMnistEmbedded,
  mnistEmbeddedSet,
} from './mnist-embedded.js';
export { type ExtractTarOptions, extractTar, safeTarPath, TAR_MAX_BYTES } from './tar.js';
