/**
 * @csq/app-imagenet-resnet: the ImageNet ResNet-18/50 benchmark app.
 */
export { IMAGENET_APP, imagenetSmoke } from './app-spec.js';
