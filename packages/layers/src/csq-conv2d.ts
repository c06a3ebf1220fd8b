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

/** Options of CsqConv2D: tf.layers.conv2d's, plus the CSQ options of CsqLayerArgs. */
export interface CsqConv2DArgs extends CsqLayerArgs {
  filters: number;
  kernelSize: number | number[];
  strides?: number | number[];
  padding?: PaddingMode;
  dataFormat?: DataFormat;
  dilationRate?: number | number[];
}

/**
 * A 2-D convolution whose kernel is made of bit planes behind sigmoid gates with a learnable
 * per-layer bit mask (spec 1); kernel shape [kh, kw, inChannels, filters].
 */
export class CsqConv2D extends CsqLayer {
  /** @nocollapse */
  static className = 'CsqConv2D';
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: PaddingMode;
  readonly dataFormat: DataFormat;
  readonly dilationRate: [number, number];

  constructor(args: CsqConv2DArgs) {
    super(args, { kernelInitializer: 'glorotUniform' });
    if (!Number.isInteger(args.filters) || args.filters < 1) {
      throw new CsqError(
        'CSQ_BAD_OPTION',
        `filters must be a positive integer, got ${args.filters}.`,
      );
    }
    this.filters = args.filters;
    this.kernelSize = pair(args.kernelSize, 1, 'kernelSize');
    this.strides = pair(args.strides, 1, 'strides');
    this.padding = checkPadding(args.padding);
    this.dataFormat = checkDataFormat(args.dataFormat);
    this.dilationRate = pair(args.dilationRate, 1, 'dilationRate');
  }

  private channelAxis(rank: number): number {
    return this.dataFormat === 'channelsFirst' ? 1 : rank - 1;
  }

  protected kernelShapeFor(inputShape: tfl.Shape): number[] {
    if (inputShape.length !== 4) {
      throw new CsqError(
        'CSQ_BAD_INPUT',
        `layer "${this.name}" (CsqConv2D) needs 4-D input [batch, h, w, c], got [${inputShape}].`,
      );
    }
    const inC = inputShape[this.channelAxis(4)];
    if (inC == null) {
      throw new CsqError(
        'CSQ_BAD_INPUT',
        `layer "${this.name}": the channel dimension must be known.`,
      );
    }
    return [...this.kernelSize, inC, this.filters];
  }

  protected forward(x: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor | undefined): tf.Tensor {
    if (bias == null) {
      // tf.conv2d, not tf.fused.conv2d: the fused op's gradient always computes the input
      // gradient, wasted work for a first conv (its input is data); tf.conv2d's only where needed
      const y = tf.conv2d(
        toNhwc(x, this.dataFormat) as tf.Tensor4D,
        kernel as tf.Tensor4D,
        this.strides,
        this.padding,
        'NHWC',
        this.dilationRate,
      );
      return fromNhwc(y, this.dataFormat);
    }
    const y = tf.fused.conv2d({
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
    return this.dataFormat === 'channelsFirst'
      ? [shape[0]!, this.filters, oh, ow]
      : [shape[0]!, oh, ow, this.filters];
  }

  protected override macsFor(inputShape: tfl.Shape): number | undefined {
    const [oh, ow] = spatialOutput(inputShape, this);
    const inC = inputShape[this.channelAxis(4)];
    return knownProduct([oh, ow, this.filters, this.kernelSize[0], this.kernelSize[1], inC]);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      dataFormat: this.dataFormat,
      dilationRate: this.dilationRate,
    };
  }
}
tf.serialization.registerClass(CsqConv2D);
