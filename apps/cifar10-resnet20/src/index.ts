/**
 * @csq/app-cifar10-resnet20: the CIFAR-10 ResNet-20 benchmark app, a spec for @csq/bench.
 */
export { CIFAR_APP, CIFAR_SMOKE } from './app-spec.js';
