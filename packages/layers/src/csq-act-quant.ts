import {
  assertActBits,
  assertFinite,
  clipAndQuantize,
  clipModeFor,
  PACT_ALPHA_INIT,
} from '@csq/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { Kwargs } from '@tensorflow/tfjs-layers/dist/types.js';
import { tensorInitializer } from './csq-kernel.js';
import { singleShape } from './csq-layer.js';

/** Options of CsqActQuant. */
export interface CsqActQuantArgs extends LayerArgs {
  /** Activation bits a: 0 = full precision (a plain ReLU); 1..16 quantized (spec 4). */
  actBits: number;
  /** Initial PACT clip alpha (actBits <= 3); default 10 (spec 4). */
  alphaInit?: number;
}

/**
 * The activation quantizer of spec 4, used in place of a ReLU: clip with ReLU6 (actBits > 3) or
 * PACT with a trainable alpha (actBits <= 3), then max-scaled rounding to actBits with an
 * identity gradient. actBits 0 is a plain ReLU.
 */
export class CsqActQuant extends tfl.layers.Layer {
  /** @nocollapse */
  static className = 'CsqActQuant';
  readonly actBits: number;
  readonly alphaInit: number;
  /** 'relu6' or 'pact' (spec 4); undefined when actBits is 0. */
  readonly clip: 'relu6' | 'pact' | undefined;
  private alpha: tfl.LayerVariable | undefined;

  constructor(args: CsqActQuantArgs) {
    super(args);
    assertActBits(args.actBits);
    this.actBits = args.actBits;
    this.alphaInit = args.alphaInit ?? PACT_ALPHA_INIT;
    assertFinite(this.alphaInit, 'alphaInit', { positive: true });
    this.clip = this.actBits === 0 ? undefined : clipModeFor(this.actBits);
  }

  /** The trainable PACT clip value (only when clip is 'pact'). */
  get alphaVariable(): tfl.LayerVariable | undefined {
    return this.alpha;
  }

  override build(_inputShape: tfl.Shape | tfl.Shape[]): void {
    if (this.clip === 'pact') {
      const a = this.alphaInit;
      this.alpha = this.addWeight(
        'alpha',
        [1],
        'float32',
        tensorInitializer(() => tf.tensor([a], [1])),
        undefined,
        true,
      );
    }
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      return clipAndQuantize(x, this.actBits, this.alpha?.read());
    });
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return singleShape(inputShape);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), actBits: this.actBits, alphaInit: this.alphaInit };
  }
}
tf.serialization.registerClass(CsqActQuant);
