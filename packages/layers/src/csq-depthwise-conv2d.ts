import { CsqError } from '@csq/core';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  checkDataFormat,
  checkPadding,
  type DataFormat,
  fromNhwc,
  knownProduct,
  type PaddingMode,
  pair,
  spatialOutput,
  toNhwc,
} from './conv-utils.js';
import { CsqLayer, type CsqLayerArgs, singleShape } from './csq-layer.js';
import type { InitializerSpec } from './initializers.js';

/** Options of CsqDepthwiseConv2D: tf.layers.depthwiseConv2d's, plus the CSQ options. */
export interface CsqDepthwiseConv2DArgs extends CsqLayerArgs {
  kernelSize: number | number[];
  depthMultiplier?: number;
  strides?: number | number[];
  padding?: PaddingMode;
  dataFormat?: DataFormat;
  dilationRate?: number | number[];
  /** tf.layers' name for the kernel initializer of a depthwise conv (same as kernelInitializer). */
  depthwiseInitializer?: InitializerSpec;
}

/**
 * A depthwise 2-D convolution (MobileNet style) whose kernel [kh, kw, inChannels,
 * depthMultiplier] is made of bit planes with a learnable bit mask (spec 1).
 */
export class CsqDepthwiseConv2D extends CsqLayer {
  /** @nocollapse */
  static className = 'CsqDepthwiseConv2D';
  readonly kernelSize: [number, number];
  readonly depthMultiplier: number;
  readonly strides: [number, number];
  readonly padding: PaddingMode;
  readonly dataFormat: DataFormat;
  readonly dilationRate: [number, number];

  constructor(args: CsqDepthwiseConv2DArgs) {
    const kernelInitializer = args.kernelInitializer ?? args.depthwiseInitializer;
    super({ ...args, kernelInitializer }, { kernelInitializer: 'glorotUniform' });
    const mult = args.depthMultiplier ?? 1;
    if (!Number.isInteger(mult) || mult < 1) {
      throw new CsqError(
        'CSQ_BAD_OPTION',
        `depthMultiplier must be a positive integer, got ${mult}.`,
      );
    }
    this.depthMultiplier = mult;
    this.kernelSize = pair(args.kernelSize, 1, 'kernelSize');
    this.strides = pair(args.strides, 1, 'strides');
    this.padding = checkPadding(args.padding);
    this.dataFormat = checkDataFormat(args.dataFormat);
    this.dilationRate = pair(args.dilationRate, 1, 'dilationRate');
  }

  private inChannels(shape: tfl.Shape): number | null | undefined {
    return this.dataFormat === 'channelsFirst' ? shape[1] : shape[3];
  }

  protected kernelShapeFor(inputShape: tfl.Shape): number[] {
    const inC = this.inChannels(inputShape);
    if (inputShape.length !== 4 || inC == null) {
      throw new CsqError(
        'CSQ_BAD_INPUT',
        `layer "${this.name}" (CsqDepthwiseConv2D) needs 4-D input with known channels, got [${inputShape}].`,
      );
    }
    return [...this.kernelSize, inC, this.depthMultiplier];
  }

  protected override biasUnits(inputShape: tfl.Shape): number {
    return this.inChannels(inputShape)! * this.depthMultiplier;
  }

  protected forward(x: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor | undefined): tf.Tensor {
    const y = tf.fused.depthwiseConv2d({
      x: toNhwc(x, this.dataFormat) as tf.Tensor4D,
      filter: kernel as tf.Tensor4D,
      strides: this.strides,
      pad: this.padding,
      dilations: this.dilationRate,
      dataFormat: 'NHWC',
      bias,
    });
    return fromNhwc(y, this.dataFormat);
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = singleShape(inputShape);
    const [oh, ow] = spatialOutput(shape, this);
    const inC = this.inChannels(shape);
    const outC = inC == null ? null : inC * this.depthMultiplier;
    return this.dataFormat === 'channelsFirst'
      ? [shape[0]!, outC, oh, ow]
      : [shape[0]!, oh, ow, outC];
  }

  protected override macsFor(inputShape: tfl.Shape): number | undefined {
    const [oh, ow] = spatialOutput(inputShape, this);
    return knownProduct([
      oh,
      ow,
      this.inChannels(inputShape),
      this.depthMultiplier,
      this.kernelSize[0],
      this.kernelSize[1],
    ]);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      kernelSize: this.kernelSize,
      depthMultiplier: this.depthMultiplier,
      strides: this.strides,
      padding: this.padding,
      dataFormat: this.dataFormat,
      dilationRate: this.dilationRate,
    };
  }
}
tf.serialization.registerClass(CsqDepthwiseConv2D);
