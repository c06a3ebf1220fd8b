/**
 * The ImageNet app: ResNet-18 (imagenet-r18, epoch schedule) and ResNet-50 (imagenet-r50,
 * three search rounds of 90 epochs with rewind to epoch 2 and a final hard-mask run; stem and
 * classifier at 8 bits), read from an image folder with random-resized-crop + flip for training
 * and resize 256 / centre crop 224 for evaluation (spec 6).
 */
import type { AppSpec } from '@csq/bench';

/**
 * Settings of `--smoke`: 32x32 crops (not 224: a ResNet-50 step at 224 is far too slow for a
 * test), the networks at 1/16 of their width, two epochs over 8 images in batches of 4; for
 * imagenet-r50 two search rounds of two epochs with rewind to epoch 1, then the final run.
 */
export function imagenetSmoke(recipe: string): Record<string, unknown> {
  return {
    epochs: 2,
    batch: 4,
    limitTrain: 8,
    evalBatch: 16,
    imageSize: 32,
    workers: 1,
    widthMultiplier: 1 / 16,
    ...(recipe === 'imagenet-r50' ? { rounds: 2, rewindEpoch: 1 } : {}),
  };
}

/** The app's description for the shared harness. */
export const IMAGENET_APP: AppSpec = {
  name: 'imagenet-resnet',
  title: 'ImageNet, ResNet-18 and ResNet-50 (CSQ against the float baseline)',
  command: 'csq-imagenet-resnet',
  recipes: ['imagenet-r18', 'imagenet-r50'],
  dataKind: 'imagefolder',
  defaultData: 'data/imagenet',
  download: false,
  smoke: imagenetSmoke,
  dataHelp:
    'Data: an image folder DIR/train/CLASS/*.JPEG and DIR/val/CLASS/*.JPEG (ILSVRC-2012: the\n' +
    'train archive unpacked per class, the 50,000 val images moved into their class folders).\n' +
    'It cannot be downloaded by the app (ImageNet needs an account at image-net.org).',
};
