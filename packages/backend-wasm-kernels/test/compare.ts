/**
 * Test helpers: run the same computation on two backends and compare (not exported).
 */
import { expectClose, uniform, useBackend } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs';

/** Runs `f` on backend `name` inside a tidy and returns the values of its tensors. */
export async function valuesOn(
  name: string,
  f: () => tf.Tensor | tf.Tensor[],
): Promise<Float32Array[]> {
  await useBackend(name);
  return tf.tidy(() => {
    const out = f();
    return (Array.isArray(out) ? out : [out]).map((t) => t.dataSync() as Float32Array);
  });
}

/**
 * Asserts |a - e| <= rel * (|e| + max|e|) element-wise: relative error `rel`, measured against
 * the tensor's own scale for the elements near zero.
 */
export function expectRelClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rel = 1e-4) {
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  expectClose(actual, expected, { rtol: rel, atol: rel * Math.max(scale, 1e-12) });
}

/** A tensor of uniform values in [-1, 1) from a seed (same values on every backend). */
export function rand(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(uniform(tf.util.sizeFromShape(shape), -1, 1, seed), shape);
}
