/**
 * The networks of the paper (spec 5) and the quickstart's small CNN, as CSQ models or as the
 * plain float networks with the same topology and the same seeded float initialisation.
 */

import { assertActBits, assertBits, CsqError } from '@csq/core';
import { MODEL_NAMES, type ModelName } from '@csq/run-format';
import * as tfl from '@tensorflow/tfjs-layers';
import { CsqActQuant } from './csq-act-quant.js';
import { CsqConv2D } from './csq-conv2d.js';
import { CsqDense } from './csq-dense.js';
import type { CsqInit } from './csq-kernel.js';
import { FloatConv2D, FusedBatchNormalization } from './float-layers.js';

/** Options every builder takes. */
export interface BuildOptions {
  /** CSQ layers (default true) or the plain float network with the same topology. */
  quantized?: boolean;
  /** N of the quantized layers (default 8). */
  bits?: number;
  /** Activation bits inside residual blocks (spec 4); 0 (default) = full precision. */
  actBits?: number;
  /** Seed of every float initializer: the same seed gives identical initial weights (default 1). */
  seed?: number;
  /** Classes of the final dense layer (default 10 for mnist-cnn and resnet20, 1000 for ImageNet). */
  numClasses?: number;
  /** Input [height, width, channels] (default 28x28x1, 32x32x3, 224x224x3). */
  inputShape?: number[];
  /** Initialisation of the CSQ planes (default 'scratch', spec 1). */
  init?: CsqInit;
  /** Channel multiplier of the ResNets (default 1), for small experiments and tests. */
  widthMultiplier?: number;
}

// The one list of network names lives with the run format (config.json names a network).
export { MODEL_NAMES, type ModelName };

type Sym = tfl.SymbolicTensor;

/** Per-layer seed derived from the model seed and the layer's position (deterministic). */
function layerSeed(seed: number, index: number): number {
  return (Math.imul(seed >>> 0, 100_003) + index * 7_919 + 17) >>> 0;
}

class NetBuilder {
  readonly quantized: boolean;
  readonly bits: number;
  readonly actBits: number;
  readonly seed: number;
  readonly init: CsqInit;
  private index = 0;

  constructor(opts: BuildOptions) {
    this.quantized = opts.quantized ?? true;
    this.bits = opts.bits ?? 8;
    assertBits(this.bits);
    this.actBits = opts.actBits ?? 0;
    assertActBits(this.actBits);
    this.seed = opts.seed ?? 1;
    if (!Number.isInteger(this.seed)) {
      throw new CsqError('CSQ_BAD_OPTION', `seed must be an integer, got ${opts.seed}.`);
    }
    this.init = opts.init ?? 'scratch';
  }

  private nextSeed(): number {
    return layerSeed(this.seed, this.index++);
  }

  /** A conv without bias: CSQ (quantized, counted) unless `float`, else tf.layers.conv2d's math. */
  conv(
    x: Sym,
    name: string,
    filters: number,
    kernelSize: number,
    strides: number,
    opts: { float?: boolean; bits?: number } = {},
  ): Sym {
    const seed = this.nextSeed();
    const common = { name, filters, kernelSize, strides, padding: 'same' as const, useBias: false };
    const layer =
      this.quantized && !opts.float
        ? new CsqConv2D({
            ...common,
            bits: opts.bits ?? this.bits,
            init: this.init,
            kernelInitializer: 'heNormal',
            seed,
          })
        : new FloatConv2D({ ...common, kernelInitializer: tfl.initializers.heNormal({ seed }) });
    return layer.apply(x) as Sym;
  }

  dense(x: Sym, name: string, units: number, opts: { bits?: number } = {}): Sym {
    const seed = this.nextSeed();
    const layer = this.quantized
      ? new CsqDense({
          name,
          units,
          bits: opts.bits ?? this.bits,
          init: this.init,
          kernelInitializer: 'glorotUniform',
          seed,
        })
      : tfl.layers.dense({
          name,
          units,
          kernelInitializer: tfl.initializers.glorotUniform({ seed }),
        });
    return layer.apply(x) as Sym;
  }

  bn(x: Sym, name: string): Sym {
    return new FusedBatchNormalization({ name, momentum: 0.9, epsilon: 1e-5 }).apply(x) as Sym;
  }

  relu(x: Sym, name: string): Sym {
    return tfl.layers.reLU({ name }).apply(x) as Sym;
  }

  /** The ReLU inside a residual block: a CsqActQuant (spec 4) when activations are quantized. */
  blockRelu(x: Sym, name: string): Sym {
    if (this.quantized && this.actBits > 0) {
      return new CsqActQuant({ name, actBits: this.actBits }).apply(x) as Sym;
    }
    return this.relu(x, name);
  }
}

function inputOf(opts: BuildOptions, fallback: number[]): Sym {
  const shape = opts.inputShape ?? fallback;
  if (shape.length !== 3 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new CsqError(
      'CSQ_BAD_OPTION',
      `inputShape must be [height, width, channels] of positive integers, got ${JSON.stringify(shape)}.`,
    );
  }
  return tfl.input({ shape, name: 'input' });
}

function classes(opts: BuildOptions, fallback: number): number {
  const n = opts.numClasses ?? fallback;
  if (!Number.isInteger(n) || n < 1) {
    throw new CsqError('CSQ_BAD_OPTION', `numClasses must be a positive integer, got ${n}.`);
  }
  return n;
}

function width(opts: BuildOptions, channels: number): number {
  const w = opts.widthMultiplier ?? 1;
  if (!(w > 0)) {
    throw new CsqError('CSQ_BAD_OPTION', `widthMultiplier must be positive, got ${w}.`);
  }
  return Math.max(1, Math.round(channels * w));
}

/**
 * The quickstart CNN: 28x28x1 -> [conv 3x3 (16, 32, 64) no bias, BN, ReLU, max-pool 2 (not after
 * the last)] -> global average pool -> dense with bias. Every conv and the dense are quantized
 * and counted. Outputs logits.
 */
export function mnistCnn(opts: BuildOptions = {}): tfl.LayersModel {
  const b = new NetBuilder(opts);
  const input = inputOf(opts, [28, 28, 1]);
  let x = input;
  [16, 32, 64].forEach((filters, i) => {
    const k = i + 1;
    x = b.conv(x, `conv${k}`, filters, 3, 1);
    x = b.bn(x, `bn${k}`);
    x = b.relu(x, `relu${k}`);
    if (k < 3) x = tfl.layers.maxPooling2d({ name: `pool${k}`, poolSize: 2 }).apply(x) as Sym;
  });
  x = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as Sym;
  const out = b.dense(x, 'dense', classes(opts, 10));
  return tfl.model({
    name: b.quantized ? 'mnist-cnn-csq' : 'mnist-cnn',
    inputs: input,
    outputs: out,
  });
}

/** A 1x1 float conv + BN shortcut (spec 5: not quantized, not counted) when the shape changes. */
function shortcut(
  b: NetBuilder,
  x: Sym,
  prefix: string,
  filters: number,
  stride: number,
  inC: number,
): Sym {
  if (stride === 1 && inC === filters) return x;
  const y = b.conv(x, `${prefix}.downsample.0`, filters, 1, stride, { float: true });
  return b.bn(y, `${prefix}.downsample.1`);
}

function channels(x: Sym): number {
  return x.shape.at(-1)!;
}

/** Basic block (ResNet-18/20): conv3x3-BN-ReLU-conv3x3-BN, add shortcut, ReLU. */
function basicBlock(b: NetBuilder, x: Sym, prefix: string, filters: number, stride: number): Sym {
  const sc = shortcut(b, x, prefix, filters, stride, channels(x));
  let y = b.conv(x, `${prefix}.conv1`, filters, 3, stride);
  y = b.bn(y, `${prefix}.bn1`);
  y = b.blockRelu(y, `${prefix}.relu1`);
  y = b.conv(y, `${prefix}.conv2`, filters, 3, 1);
  y = b.bn(y, `${prefix}.bn2`);
  y = tfl.layers.add({ name: `${prefix}.add` }).apply([y, sc]) as Sym;
  return b.blockRelu(y, `${prefix}.relu2`);
}

/** Bottleneck block (ResNet-50, stride on the 3x3 conv): 1x1, 3x3, 1x1 (4x), add, ReLU. */
function bottleneck(b: NetBuilder, x: Sym, prefix: string, filters: number, stride: number): Sym {
  const out = filters * 4;
  const sc = shortcut(b, x, prefix, out, stride, channels(x));
  let y = b.conv(x, `${prefix}.conv1`, filters, 1, 1);
  y = b.bn(y, `${prefix}.bn1`);
  y = b.blockRelu(y, `${prefix}.relu1`);
  y = b.conv(y, `${prefix}.conv2`, filters, 3, stride);
  y = b.bn(y, `${prefix}.bn2`);
  y = b.blockRelu(y, `${prefix}.relu2`);
  y = b.conv(y, `${prefix}.conv3`, out, 1, 1);
  y = b.bn(y, `${prefix}.bn3`);
  y = tfl.layers.add({ name: `${prefix}.add` }).apply([y, sc]) as Sym;
  return b.blockRelu(y, `${prefix}.relu3`);
}

/**
 * CIFAR ResNet-20 (He et al.): conv3x3 16 stem, three stages of three basic blocks (16, 32, 64
 * channels, stride 2 at stages 2 and 3), float 1x1 conv + BN shortcuts where the shape changes,
 * global average pool, dense. Stem and classifier quantized and counted (spec 5); activations
 * quantized after each ReLU inside a block when actBits > 0 (the input and the stem output are
 * not). Outputs logits.
 */
export function resnet20(opts: BuildOptions = {}): tfl.LayersModel {
  const b = new NetBuilder(opts);
  const input = inputOf(opts, [32, 32, 3]);
  let x = b.conv(input, 'conv1', width(opts, 16), 3, 1);
  x = b.bn(x, 'bn1');
  x = b.relu(x, 'relu1');
  [16, 32, 64].forEach((c, s) => {
    for (let i = 0; i < 3; i++) {
      x = basicBlock(b, x, `layer${s + 1}.${i}`, width(opts, c), s > 0 && i === 0 ? 2 : 1);
    }
  });
  x = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as Sym;
  const out = b.dense(x, 'fc', classes(opts, 10));
  return tfl.model({
    name: b.quantized ? 'resnet20-csq' : 'resnet20',
    inputs: input,
    outputs: out,
  });
}

function imagenetStem(b: NetBuilder, input: Sym, opts: BuildOptions, bits?: number): Sym {
  let x = b.conv(input, 'conv1', width(opts, 64), 7, 2, bits ? { bits } : {});
  x = b.bn(x, 'bn1');
  x = b.relu(x, 'relu1');
  return tfl.layers
    .maxPooling2d({ name: 'maxpool', poolSize: 3, strides: 2, padding: 'same' })
    .apply(x) as Sym;
}

/**
 * ImageNet ResNet-18: conv7x7/2 64 stem + max-pool, four stages of two basic blocks (64, 128,
 * 256, 512), float 1x1 shortcuts, dense. Stem and classifier quantized and counted (spec 5);
 * activation quantization in every block (including the last stage, unlike the authors' code).
 */
export function resnet18(opts: BuildOptions = {}): tfl.LayersModel {
  const b = new NetBuilder(opts);
  const input = inputOf(opts, [224, 224, 3]);
  let x = imagenetStem(b, input, opts);
  [64, 128, 256, 512].forEach((c, s) => {
    for (let i = 0; i < 2; i++) {
      x = basicBlock(b, x, `layer${s + 1}.${i}`, width(opts, c), s > 0 && i === 0 ? 2 : 1);
    }
  });
  x = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as Sym;
  const out = b.dense(x, 'fc', classes(opts, 1000));
  return tfl.model({
    name: b.quantized ? 'resnet18-csq' : 'resnet18',
    inputs: input,
    outputs: out,
  });
}

/**
 * ImageNet ResNet-50 (v1.5: stride on the 3x3 conv): stem, bottleneck stages [3, 4, 6, 3] of
 * widths 64..512 (x4 out), float 1x1 shortcuts, dense. Stem and classifier fixed at 8 bits,
 * still masked and counted (spec 5); activation quantization after every ReLU of every block
 * (the authors' code skipped it here, spec 7).
 */
export function resnet50(opts: BuildOptions = {}): tfl.LayersModel {
  const b = new NetBuilder(opts);
  const input = inputOf(opts, [224, 224, 3]);
  let x = imagenetStem(b, input, opts, 8);
  [3, 4, 6, 3].forEach((blocks, s) => {
    const c = width(opts, 64 * 2 ** s);
    for (let i = 0; i < blocks; i++) {
      x = bottleneck(b, x, `layer${s + 1}.${i}`, c, s > 0 && i === 0 ? 2 : 1);
    }
  });
  x = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as Sym;
  const out = b.dense(x, 'fc', classes(opts, 1000), { bits: 8 });
  return tfl.model({
    name: b.quantized ? 'resnet50-csq' : 'resnet50',
    inputs: input,
    outputs: out,
  });
}

/** Builds one of the named networks (`MODEL_NAMES`). */
export function buildModel(name: ModelName, opts: BuildOptions = {}): tfl.LayersModel {
  switch (name) {
    case 'mnist-cnn':
      return mnistCnn(opts);
    case 'resnet20':
      return resnet20(opts);
    case 'resnet18':
      return resnet18(opts);
    case 'resnet50':
      return resnet50(opts);
    default:
      throw new CsqError(
        'CSQ_UNKNOWN_MODEL',
        `unknown model "${String(name)}"; choose one of ${MODEL_NAMES.join(', ')}.`,
      );
  }
}
