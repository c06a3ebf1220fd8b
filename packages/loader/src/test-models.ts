/**
 * Test fixtures (not exported by the package): small plain-tfjs models whose kernels are
 * quantized with @csq/core the way the CSQ exporter does it, and packed.
 */
import { codesToWeights, exactCodes, initBitPlanes } from '@csq/core';
import { rng, uniform } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs';
import type { PackedWeightInput } from './format.js';

/** conv (no bias) + batch norm + relu + strided conv + flatten + dense. */
export function sequentialModel(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [8, 8, 2],
        filters: 4,
        kernelSize: 3,
        useBias: false,
        name: 'conv1',
      }),
      tf.layers.batchNormalization({ name: 'bn1' }),
      tf.layers.activation({ activation: 'relu', name: 'relu1' }),
      tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, name: 'conv2' }),
      tf.layers.flatten({ name: 'flat' }),
      tf.layers.dense({ units: 5, name: 'fc' }),
    ],
  });
}

/** A functional residual block: conv-bn-relu-conv-bn + 1x1 shortcut conv, add, depthwise, dense. */
export function residualModel(): tf.LayersModel {
  const input = tf.input({ shape: [6, 6, 3], name: 'image' });
  const conv = (filters: number, name: string) =>
    tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', useBias: false, name });
  let x = conv(4, 'block_conv_a').apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: 'block_bn_a' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU({ name: 'block_relu_a' }).apply(x) as tf.SymbolicTensor;
  x = conv(4, 'block_conv_b').apply(x) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: 'block_bn_b' }).apply(x) as tf.SymbolicTensor;
  const shortcut = tf.layers
    .conv2d({ filters: 4, kernelSize: 1, name: 'shortcut' })
    .apply(input) as tf.SymbolicTensor;
  x = tf.layers.add({ name: 'residual_add' }).apply([x, shortcut]) as tf.SymbolicTensor;
  x = tf.layers.reLU({ name: 'block_relu_out' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers
    .depthwiseConv2d({ kernelSize: 3, padding: 'same', name: 'dw' })
    .apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, name: 'head' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'residual' });
}

/** Gives every weight random values (variances positive) so order mistakes change predictions. */
export function randomizeWeights(model: tf.LayersModel, seed: number): void {
  const r = rng(seed);
  const values = model.weights.map((w) => {
    const n = (w.shape as number[]).reduce((a, b) => a * b, 1);
    const v = new Float32Array(n);
    const positive = w.originalName.endsWith('moving_variance');
    for (let i = 0; i < n; i++) v[i] = positive ? 0.5 + r() : 2 * r() - 1;
    return tf.tensor(v, w.shape as number[]);
  });
  model.setWeights(values);
  tf.dispose(values);
}

/** How a kernel is quantized: N, the mask logits, and whether digits come from random logits. */
export interface QuantPlan {
  bits: number;
  /** Mask logits m (spec 1): position i selected iff m[i] > 0. */
  mask: number[];
  /** Random plane logits instead of initBitPlanes digits: mixed-sign digits, more levels. */
  randomPlanes?: boolean;
}

/**
 * The model's weights as packed-format inputs: kernels named in `plans` become integer codes
 * (initBitPlanes + exactCodes, spec 1), everything else float32. Also returns the dequantized
 * weights (codesToWeights) in model.getWeights() order: what the loaded model must hold.
 */
export function quantizeModel(
  model: tf.LayersModel,
  plans: Record<string, QuantPlan>,
  seed = 3,
): { inputs: PackedWeightInput[]; dequantized: Float32Array[] } {
  const inputs: PackedWeightInput[] = [];
  const dequantized: Float32Array[] = [];
  model.weights.forEach((w, k) => {
    const shape = w.shape as number[];
    const values = w.read().dataSync() as Float32Array;
    const plan = plans[w.originalName];
    if (!plan) {
      inputs.push({ name: w.originalName, shape, kind: 'float32', values });
      dequantized.push(Float32Array.from(values));
      return;
    }
    const planes = initBitPlanes(values, plan.bits);
    let { p, n } = planes;
    if (plan.randomPlanes) {
      p = uniform(p.length, -1, 1, seed + 2 * k);
      n = uniform(n.length, -1, 1, seed + 2 * k + 1);
    }
    const { codes, positions } = exactCodes({ p, n, m: plan.mask, bits: plan.bits });
    inputs.push({
      name: w.originalName,
      shape,
      kind: 'codes',
      codes,
      bits: plan.bits,
      scale: planes.scale,
      positions,
    });
    dequantized.push(codesToWeights(codes, planes.scale, plan.bits));
  });
  return { inputs, dequantized };
}

/** Sets `weights` (model.getWeights() order) on a model. */
export function setWeights(model: tf.LayersModel, weights: Float32Array[]): void {
  const ts = model.weights.map((w, i) => tf.tensor(weights[i]!, w.shape as number[]));
  model.setWeights(ts);
  tf.dispose(ts);
}

/** Predictions of a model on `x` as a flat array. */
export function predict(model: tf.LayersModel, x: Float32Array, shape: number[]): Float32Array {
  return tf.tidy(() => {
    const y = model.predict(tf.tensor(x, shape)) as tf.Tensor;
    return y.dataSync() as Float32Array;
  });
}

/** Largest |a_i - b_i|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** The plans the tests use for the two models (mixed bit widths, non-contiguous masks). */
export const SEQUENTIAL_PLANS: Record<string, QuantPlan> = {
  'conv1/kernel': { bits: 8, mask: [1, 1, -1, 1, -1, -1, -1, -1] },
  'conv2/kernel': { bits: 6, mask: [1, -1, 1, 1, 1, -1], randomPlanes: true },
  'fc/kernel': { bits: 4, mask: [1, 1, 1, 1] },
};

export const RESIDUAL_PLANS: Record<string, QuantPlan> = {
  'block_conv_a/kernel': { bits: 8, mask: [1, 1, 1, -1, -1, -1, -1, -1] },
  'block_conv_b/kernel': { bits: 8, mask: [-1, 1, -1, 1, -1, -1, -1, -1], randomPlanes: true },
  'dw/depthwise_kernel': { bits: 6, mask: [1, 1, -1, -1, -1, -1] },
  'head/kernel': { bits: 4, mask: [1, -1, -1, 1] },
};
