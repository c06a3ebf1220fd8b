import * as tf from '@tensorflow/tfjs-core';

type GradResult = {
  value: tf.Tensor;
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
};
type LooseCustomGrad = Parameters<typeof tf.customGrad>[0];

/**
 * `forward` with a straight-through (identity) gradient: the backward pass hands dy to x
 * unchanged. Used by every rounding in csq (activations, bias).
 */
export function straightThrough(forward: (x: tf.Tensor) => tf.Tensor): (x: tf.Tensor) => tf.Tensor {
  const f = (x: tf.Tensor): GradResult => ({
    value: tf.tidy(() => forward(x)),
    gradFunc: (dy) => dy,
  });
  return tf.customGrad(f as unknown as LooseCustomGrad);
}

/** tf.customGrad for a two-input function, with the types tfjs leaves loose. */
export function customGrad2(
  f: (a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => GradResult,
): (a: tf.Tensor, b: tf.Tensor) => tf.Tensor {
  return tf.customGrad(f as unknown as LooseCustomGrad);
}
