/**
 * The quantized bias of a CSQ layer (spec 5): round-and-clip to N bits with a straight-through
 * gradient and its own trainable scale; not masked, not counted.
 */
import { assertBits, CsqError, maxAbs, quantizeBiasTensor } from '@csq/core';
import * as tf from '@tensorflow/tfjs-core';
import type { LayerVariable } from '@tensorflow/tfjs-layers';
import type { Initializer } from '@tensorflow/tfjs-layers/dist/initializers';
import { type AddWeight, tensorInitializer } from './csq-kernel.js';

/**
 * A bias quantized by round-and-clip to N bits with a straight-through gradient and its own
 * trainable scale (spec 5); not masked, not counted. Stored as u = bias / scale and the scale.
 */
export class CsqBias {
  readonly bits: number;
  readonly quantize: boolean;
  private vars: { u: LayerVariable; scale: LayerVariable | undefined } | undefined;
  private units = 0;

  /** `quantize` false keeps a plain float bias (stored directly in u). */
  constructor(bits: number, quantize = true) {
    assertBits(bits);
    this.bits = bits;
    this.quantize = quantize;
  }

  /** Adds the bias weights ([units] and a [1] scale), initialised from a float bias drawn by `init`. */
  build(addWeight: AddWeight, units: number, init: Initializer, skipInit = false): void {
    this.units = units;
    let values: { u: Float32Array; scale: number } | undefined;
    if (!skipInit) {
      const b = tf.tidy(() => init.apply([units], 'float32'));
      values = this.split(b.dataSync());
      b.dispose();
    }
    const u = addWeight(
      'bias',
      [units],
      'float32',
      tensorInitializer(() => (values ? tf.tensor(values.u, [units]) : tf.zeros([units]))),
    );
    const scale = this.quantize
      ? addWeight(
          'bias_scale',
          [1],
          'float32',
          tensorInitializer(() => tf.tensor([values ? values.scale : 1], [1])),
        )
      : undefined;
    this.vars = { u, scale };
  }

  private split(b: ArrayLike<number>): { u: Float32Array; scale: number } {
    if (!this.quantize) return { u: Float32Array.from(b), scale: 1 };
    const s = maxAbs(b);
    // A zero bias still needs a non-zero scale, or it could never learn (zero gradient).
    const scale = s > 0 ? s : 1;
    return { u: Float32Array.from(b, (x) => x / scale), scale };
  }

  /** The trainable variables (u, and the scale when quantized). */
  variables(): LayerVariable[] {
    if (!this.vars) return [];
    return this.vars.scale ? [this.vars.u, this.vars.scale] : [this.vars.u];
  }

  /** The bias tensor: scale * roundClip(u) (spec 5) or the float bias. */
  compute(): tf.Tensor {
    const vars = this.vars!;
    if (!vars.scale) return vars.u.read();
    return quantizeBiasTensor(vars.u.read(), vars.scale.read(), this.bits);
  }

  /** Sets the bias from float values (scale = max|b|, or 1 for a zero bias). */
  setFromFloat(b: tf.Tensor | ArrayLike<number>): void {
    const data = b instanceof tf.Tensor ? b.dataSync() : b;
    if (!this.vars || data.length !== this.units) {
      throw new CsqError(
        'CSQ_BAD_SHAPE',
        `float bias has ${data.length} values but the layer's bias holds ${this.units}.`,
      );
    }
    const { u, scale } = this.split(data);
    const vars = this.vars;
    tf.tidy(() => {
      vars.u.write(tf.tensor(u, [this.units]));
      vars.scale?.write(tf.tensor([scale], [1]));
    });
  }
}
