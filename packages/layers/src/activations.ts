import { CsqError } from '@csq/core';
import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/** An activation applied after a CSQ layer's kernel and bias; undefined for 'linear'. */
export type ActivationFn = ((x: tf.Tensor) => tf.Tensor) | undefined;

/**
 * Resolves a tf.layers activation identifier ('relu', 'softmax', ...) through tfjs' own
 * Activation layer, so every activation tf.layers knows works here too.
 */
export function resolveActivation(name: string | null | undefined): ActivationFn {
  if (name == null || name === 'linear') return undefined;
  let layer: tfl.layers.Layer;
  try {
    layer = tfl.layers.activation({ activation: name as 'relu' });
  } catch (err) {
    throw new CsqError(
      'CSQ_BAD_ACTIVATION',
      `unknown activation "${name}" (${(err as Error).message}); use a tf.layers activation ` +
        'name such as "relu", "softmax" or "linear".',
    );
  }
  const fn = (layer as unknown as { activation: { apply(x: tf.Tensor): tf.Tensor } }).activation;
  return (x) => fn.apply(x);
}
