/**
 * Small plain-tf.layers networks with the layer mix of the networks csq trains (conv, batch
 * norm, ReLU/ReLU6, pooling, residual adds, 1x1 stride-2 shortcuts, bottlenecks, depthwise
 * blocks, activation quantizers), for the kernel benchmark (the kernel tests keep their own copy
 * in @csq/backend-wasm-kernels/test). Not published.
 */
import { clipAndQuantize } from '@csq/core';
import { uniform } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs';

type SymbolicTensor = tf.SymbolicTensor;

/**
 * Activation quantizer of spec 4 as a layer: clip (ReLU6 above 3 bits, PACT with a trainable
 * alpha at 3 bits or fewer), then round to `bits` (straight-through).
 */
export class ActQuant extends tf.layers.Layer {
  static className = 'CsqTestActQuant';
  private alpha: tf.LayerVariable | null = null;
  constructor(private readonly bits: number) {
    super({});
  }
  override build(): void {
    if (this.bits <= 3) {
      this.alpha = this.addWeight('alpha', [1], 'float32', tf.initializers.constant({ value: 3 }));
    }
    this.built = true;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return clipAndQuantize(x, this.bits, this.alpha?.read());
  }
}

export type Activation = 'relu' | 'relu6' | 'quant' | 'pact';

function act(x: SymbolicTensor, kind: Activation): SymbolicTensor {
  if (kind === 'relu') return tf.layers.reLU().apply(x) as SymbolicTensor;
  if (kind === 'relu6') return tf.layers.reLU({ maxValue: 6 }).apply(x) as SymbolicTensor;
  return new ActQuant(kind === 'quant' ? 4 : 2).apply(x) as SymbolicTensor;
}

function conv(
  x: SymbolicTensor,
  filters: number,
  kernelSize: number,
  strides: number,
  padding: 'same' | 'valid' = 'same',
): SymbolicTensor {
  return tf.layers
    .conv2d({
      filters,
      kernelSize,
      strides,
      padding,
      useBias: false,
      kernelInitializer: 'heNormal',
    })
    .apply(x) as SymbolicTensor;
}

function bn(x: SymbolicTensor): SymbolicTensor {
  return tf.layers.batchNormalization().apply(x) as SymbolicTensor;
}

function head(x: SymbolicTensor, classes: number): SymbolicTensor {
  const pooled = tf.layers.globalAveragePooling2d({}).apply(x) as SymbolicTensor;
  return tf.layers.dense({ units: classes }).apply(pooled) as SymbolicTensor;
}

/** conv + BN + ReLU + max-pool + strided valid conv + GAP + dense; logits out. */
export function smallCnn(inputShape: number[] = [16, 16, 3], classes = 10): tf.LayersModel {
  const input = tf.input({ shape: inputShape });
  let x = act(bn(conv(input, 8, 3, 1)), 'relu');
  x = tf.layers
    .maxPooling2d({ poolSize: 2, strides: 2, padding: 'same' })
    .apply(x) as SymbolicTensor;
  x = act(bn(conv(x, 16, 3, 2, 'valid')), 'relu');
  x = tf.layers
    .averagePooling2d({ poolSize: 2, strides: 1, padding: 'valid' })
    .apply(x) as SymbolicTensor;
  return tf.model({ inputs: input, outputs: head(x, classes) });
}

/** The classic MNIST CNN: conv 32, max-pool, conv 64, max-pool, dense 128, dense; logits out. */
export function plainCnn(inputShape: number[] = [28, 28, 1], classes = 10): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape, filters: 32, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 128, activation: 'relu' }),
      tf.layers.dense({ units: classes }),
    ],
  });
}

/**
 * CIFAR ResNet (He et al. 2016): 3 stages of `blocks` basic blocks, widths w, 2w, 4w; the first
 * block of stages 2 and 3 has stride 2 and a 1x1 stride-2 conv + BN shortcut. blocks = 3 gives
 * ResNet-20.
 */
export function cifarResNet(
  opts: {
    blocks?: number;
    width?: number;
    inputShape?: number[];
    classes?: number;
    activation?: Activation;
  } = {},
): tf.LayersModel {
  const {
    blocks = 3,
    width = 16,
    inputShape = [32, 32, 3],
    classes = 10,
    activation = 'relu',
  } = opts;
  const input = tf.input({ shape: inputShape });
  let x = act(bn(conv(input, width, 3, 1)), activation);
  for (let stage = 0; stage < 3; stage++) {
    const filters = width * 2 ** stage;
    for (let b = 0; b < blocks; b++) {
      const strides = stage > 0 && b === 0 ? 2 : 1;
      let y = act(bn(conv(x, filters, 3, strides)), activation);
      y = bn(conv(y, filters, 3, 1));
      const shortcut = strides === 1 ? x : bn(conv(x, filters, 1, strides));
      x = act(tf.layers.add().apply([y, shortcut]) as SymbolicTensor, activation);
    }
  }
  return tf.model({ inputs: input, outputs: head(x, classes) });
}

/** Two ResNet-50 bottleneck blocks (1x1 reduce, 3x3, 1x1 expand; stride 2 then 1). */
export function bottleneckNet(inputShape: number[] = [12, 12, 8], classes = 10): tf.LayersModel {
  const input = tf.input({ shape: inputShape });
  let x = act(bn(conv(input, 16, 3, 1)), 'relu');
  for (const strides of [2, 1]) {
    let y = act(bn(conv(x, 8, 1, 1)), 'relu');
    y = act(bn(conv(y, 8, 3, strides)), 'relu');
    y = bn(conv(y, 32, 1, 1));
    const shortcut = strides === 1 && x.shape[3] === 32 ? x : bn(conv(x, 32, 1, strides));
    x = act(tf.layers.add().apply([y, shortcut]) as SymbolicTensor, 'relu');
  }
  return tf.model({ inputs: input, outputs: head(x, classes) });
}

/** MobileNet-style depthwise-separable blocks: stride 1/2, same/valid, ReLU6, multiplier 1 and 2. */
export function depthwiseNet(inputShape: number[] = [25, 23, 4], classes = 10): tf.LayersModel {
  const input = tf.input({ shape: inputShape });
  let x = act(bn(conv(input, 8, 3, 2)), 'relu6');
  const blocks: [number, 'same' | 'valid', number, number][] = [
    [1, 'same', 1, 16],
    [2, 'same', 2, 16],
    [1, 'valid', 1, 24],
    [2, 'valid', 1, 24],
  ];
  for (const [strides, padding, depthMultiplier, filters] of blocks) {
    x = tf.layers
      .depthwiseConv2d({ kernelSize: 3, strides, padding, depthMultiplier, useBias: false })
      .apply(x) as SymbolicTensor;
    x = act(bn(x), 'relu6');
    x = act(bn(conv(x, filters, 1, 1)), 'relu6');
  }
  return tf.model({ inputs: input, outputs: head(x, classes) });
}

/**
 * One training step's numbers: softmax cross-entropy loss and its gradient for every trainable
 * weight, BN in training mode. Returns [loss, ...grads] as plain arrays (tensors freed).
 */
export function lossAndGrads(
  model: tf.LayersModel,
  x: tf.Tensor,
  labels: tf.Tensor,
): { loss: number; grads: Float32Array[]; names: string[] } {
  return tf.tidy(() => {
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { value, grads } = tf.variableGrads(() => {
      const logits = model.apply(x, { training: true }) as tf.Tensor;
      return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
    }, vars);
    return {
      loss: value.dataSync()[0]!,
      grads: vars.map((v) => grads[v.name]!.dataSync() as Float32Array),
      names: model.trainableWeights.map((w) => w.originalName),
    };
  });
}

/**
 * Sets every trainable weight from a seed (He-uniform kernels, BN gamma near 1, small beta and
 * biases), so a test sees the same network on every run. Backends round differently, and a
 * pre-activation within rounding of a ReLU kink can flip its mask between them; with fixed
 * weights and inputs that either happens on every run or never.
 */
export function seedWeights(model: tf.LayersModel, seed: number): void {
  model.trainableWeights.forEach((w, i) => {
    const shape = w.shape as number[];
    const size = tf.util.sizeFromShape(shape);
    const name = w.originalName;
    let values: Float32Array;
    if (name.endsWith('kernel')) {
      const fanIn = tf.util.sizeFromShape(shape.slice(0, -1)) || 1;
      const a = Math.sqrt(6 / fanIn);
      values = uniform(size, -a, a, seed + i);
    } else if (name.endsWith('alpha')) {
      values = uniform(size, 2, 4, seed + i); // PACT clip values
    } else if (name.endsWith('gamma')) {
      values = uniform(size, 0.8, 1.2, seed + i);
    } else {
      values = uniform(size, -0.1, 0.1, seed + i);
    }
    const t = tf.tensor(values, shape);
    w.write(t);
    t.dispose();
  });
}
