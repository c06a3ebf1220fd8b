import { CsqError } from '@csq/core';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { knownProduct } from './conv-utils.js';
import { CsqLayer, type CsqLayerArgs, singleShape } from './csq-layer.js';

/** Options of CsqDense: tf.layers.dense's, plus the CSQ options of CsqLayerArgs. */
export interface CsqDenseArgs extends CsqLayerArgs {
  units: number;
  /** Input size, as tf.layers.dense's `inputDim` (for a first layer). */
  inputDim?: number;
}

/**
 * A dense layer whose kernel [inputDim, units] is made of bit planes with a learnable bit mask
 * (spec 1) and whose bias is quantized to N bits by round-and-clip with its own scale (spec 5).
 */
export class CsqDense extends CsqLayer {
  /** @nocollapse */
  static className = 'CsqDense';
  readonly units: number;

  constructor(args: CsqDenseArgs) {
    const withShape =
      args.inputDim !== undefined && args.inputShape == null && args.batchInputShape == null
        ? { ...args, inputShape: [args.inputDim] }
        : args;
    super(withShape, { kernelInitializer: 'glorotUniform' });
    if (!Number.isInteger(args.units) || args.units < 1) {
      throw new CsqError('CSQ_BAD_OPTION', `units must be a positive integer, got ${args.units}.`);
    }
    this.units = args.units;
  }

  protected kernelShapeFor(inputShape: tfl.Shape): number[] {
    const inDim = inputShape.at(-1);
    if (inDim == null || inputShape.length < 2) {
      throw new CsqError(
        'CSQ_BAD_INPUT',
        `layer "${this.name}" (CsqDense) needs input [batch, ..., features] with known features, got [${inputShape}].`,
      );
    }
    return [inDim, this.units];
  }

  protected forward(x: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor | undefined): tf.Tensor {
    const inDim = kernel.shape[0]!;
    const lead = x.shape.slice(0, -1);
    const x2 = x.rank === 2 ? (x as tf.Tensor2D) : tf.reshape(x, [-1, inDim]);
    const y = tf.fused.matMul({ a: x2 as tf.Tensor2D, b: kernel as tf.Tensor2D, bias });
    return x.rank === 2 ? y : tf.reshape(y, [...lead, this.units]);
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = singleShape(inputShape);
    return [...shape.slice(0, -1), this.units];
  }

  protected override macsFor(inputShape: tfl.Shape): number | undefined {
    const inner = knownProduct(inputShape.slice(1, -1));
    const inDim = inputShape.at(-1);
    return inner === undefined || inDim == null ? undefined : inner * inDim * this.units;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.units };
  }
}
tf.serialization.registerClass(CsqDense);
