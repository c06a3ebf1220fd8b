/**
 * The inference side of the activation quantizer of spec 4, for exported models whose network
 * quantizes activations (recipes with actBits > 0): clip with ReLU6 (actBits > 3) or PACT with
 * the trained alpha (actBits <= 3), then max-scaled rounding, S = max|x| over the batch tensor.
 * It computes exactly what @csq/layers' CsqActQuant computes; it has no trainable weights.
 */
import { assertActBits, clipAndQuantize, clipModeFor } from '@csq/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/** Options of CsqActQuantize. */
export interface CsqActQuantizeArgs {
  actBits: number;
  name?: string;
  trainable?: boolean;
  dtype?: tf.DataType;
}

/** Forward-only activation quantizer layer (spec 4) that packed models may contain. */
export class CsqActQuantize extends tfl.layers.Layer {
  /** @nocollapse */
  static className = 'CsqActQuantize';
  readonly actBits: number;
  private alpha: tfl.LayerVariable | undefined;

  constructor(args: CsqActQuantizeArgs) {
    assertActBits(args.actBits);
    super({ ...args, trainable: false });
    this.actBits = args.actBits;
  }

  override build(): void {
    if (this.actBits > 0 && clipModeFor(this.actBits) === 'pact') {
      this.alpha = this.addWeight(
        'alpha',
        [1],
        'float32',
        tfl.initializers.ones(),
        undefined,
        false,
      );
    }
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      return clipAndQuantize(x, this.actBits, this.alpha?.read());
    });
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), actBits: this.actBits };
  }
}

let registered = false;

/**
 * Registers CsqActQuantize with tf.serialization (once), so topologies naming it deserialize.
 * loadPackedModel calls it; call it yourself before tf.models.modelFromJSON on such a topology.
 */
export function registerCsqActQuantize(): void {
  if (registered) return;
  tf.serialization.registerClass(CsqActQuantize);
  registered = true;
}
