/**
 * @csq/layers: CSQ layers for tf.layers models (spec 1, 4, 5), the controller, model
 * conversion, the paper's networks, and serialization. Importing registers every class with
 * tf.serialization, so saved CSQ models load with tf.loadLayersModel.
 */

export { type ActivationFn, resolveActivation } from './activations.js';
export {
  type BuildOptions,
  buildModel,
  MODEL_NAMES,
  type ModelName,
  mnistCnn,
  resnet18,
  resnet20,
  resnet50,
} from './builders.js';
export { CsqController, findCsqLayers } from './controller.js';
export {
  CONVERT_INIT_LOGIT,
  CONVERT_MASK_LOGIT,
  type LayerOverride,
  type LayerSelector,
  type QuantizeOptions,
  quantizeModel,
} from './convert.js';
export { CsqActQuant, type CsqActQuantArgs } from './csq-act-quant.js';
export { CsqBias } from './csq-bias.js';
export { CsqConv2D, type CsqConv2DArgs } from './csq-conv2d.js';
export { CsqDense, type CsqDenseArgs } from './csq-dense.js';
export { CsqDepthwiseConv2D, type CsqDepthwiseConv2DArgs } from './csq-depthwise-conv2d.js';
export {
  type AddWeight,
  type CsqInit,
  CsqKernel,
  type CsqKernelOptions,
  kernelPlanes,
  tensorInitializer,
} from './csq-kernel.js';
export { CsqLayer, type CsqLayerArgs, singleShape } from './csq-layer.js';
export {
  BATCH_NORM_TRAINING_KERNELS,
  batchNormTraining,
  FloatConv2D,
  FusedBatchNormalization,
  hasFusedBatchNorm,
} from './float-layers.js';
export {
  INITIALIZER_NAMES,
  type InitializerSpec,
  resolveInitializer,
  serializeInitializerSpec,
} from './initializers.js';
export {
  type CsqPhase,
  type CsqQuantLayer,
  type CsqState,
  DEFAULT_CSQ_STATE,
  type ExactKernel,
  isCsqLayer,
} from './types.js';
