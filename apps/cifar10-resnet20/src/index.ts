/**
 * @csq/app-cifar10-resnet20: the CIFAR-10 ResNet-20 benchmark app, and (at ./harness) the
 * harness it shares with apps/imagenet-resnet.
 */
export { CIFAR_APP, CIFAR_SMOKE } from './app-spec.js';
export * from './harness/index.js';
