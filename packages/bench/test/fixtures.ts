/**
 * App specs for the harness's own tests: the CIFAR app's spec as apps/cifar10-resnet20 writes
 * it, and a tiny app (the quickstart's mnist-cnn on small IDX files) that trains in seconds.
 */
import type { AppSpec } from '../src/index.js';

/** apps/cifar10-resnet20's spec (the harness never imports an app). */
export const CIFAR_SPEC: AppSpec = {
  name: 'cifar10-resnet20',
  title: 'CIFAR-10, ResNet-20 (CSQ against the float baseline)',
  command: 'csq-cifar10-resnet20',
  recipes: ['cifar-n8t2', 'cifar-n6t3a4'],
  dataKind: 'cifar10',
  defaultData: 'data/cifar10',
  download: true,
  smoke: () => ({ epochs: 2, batch: 16, limitTrain: 32, evalBatch: 50 }),
  dataHelp: 'Data: the CIFAR-10 binary version.',
};

/**
 * A tiny app: the quickstart recipe (mnist-cnn, 8 to 2 bits) on IDX files of 12x12 images;
 * `--smoke` trains three epochs (two search, one ticket) over 24 images in batches of 8.
 */
export const TINY_SPEC: AppSpec = {
  name: 'tiny',
  title: 'Tiny test app (mnist-cnn on generated IDX files)',
  command: 'csq-tiny',
  recipes: ['quickstart'],
  dataKind: 'idx',
  defaultData: 'data/tiny',
  download: false,
  smoke: () => ({ epochs: 3, batch: 8, limitTrain: 24, evalBatch: 16 }),
  dataHelp: 'Data: MNIST IDX files.',
};
