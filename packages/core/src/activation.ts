/**
 * Spec 4: activation quantizers as tfjs custom-gradient functions.
 */
import * as tf from '@tensorflow/tfjs-core';
import { customGrad2, straightThrough } from './custom-grad.js';
import { CsqError } from './errors.js';

/** Largest activation bit width supported. */
export const MAX_ACT_BITS = 16;

/** Throws unless actBits is 0 (full precision) or an integer in 1..MAX_ACT_BITS. */
export function assertActBits(actBits: number): void {
  if (!Number.isInteger(actBits) || actBits < 0 || actBits > MAX_ACT_BITS) {
    throw new CsqError(
      'CSQ_BAD_ACT_BITS',
      `actBits must be 0 (full precision) or an integer from 1 to ${MAX_ACT_BITS}, got ${String(actBits)}.`,
    );
  }
}

/** The clip spec 4 pairs with an activation width: ReLU6 above 3 bits, PACT at 3 bits or fewer. */
export function clipModeFor(actBits: number): 'relu6' | 'pact' {
  assertActBits(actBits);
  return actBits > 3 ? 'relu6' : 'pact';
}

/** Initial PACT clip value alpha (spec 4). */
export const PACT_ALPHA_INIT = 10;

/**
 * Spec 4 max-scaled rounding: S * round(|x| (2^a - 1) / S) / (2^a - 1) * sign(x), S = max|x| over
 * the whole tensor (the batch), with an identity (straight-through) gradient. actBits 0 returns x.
 */
export function quantizeActivation(x: tf.Tensor, actBits: number): tf.Tensor {
  assertActBits(actBits);
  if (actBits === 0) return tf.clone(x);
  const q = 2 ** actBits - 1;
  const f = straightThrough((input) => {
    const s = tf.max(tf.abs(input));
    // Where S = 0 the whole tensor is 0; dividing by max(S, tiny) keeps it 0 without NaN.
    const safe = tf.maximum(s, 1e-30);
    const r = tf.div(tf.round(tf.div(tf.mul(tf.abs(input), q), safe)), q);
    return tf.mul(tf.mul(r, s), tf.sign(input));
  });
  return f(x);
}

/**
 * PACT clip (spec 4): y = clip(x, 0, alpha). dy/dx = 1 for 0 <= x < alpha, else 0;
 * dy/dalpha = 1 where x >= alpha, else 0 (summed to alpha's shape).
 */
export function pactClip(x: tf.Tensor, alpha: tf.Tensor): tf.Tensor {
  if (alpha.size !== 1) {
    throw new CsqError(
      'CSQ_BAD_SHAPE',
      `PACT alpha must be a single value, got shape [${alpha.shape}].`,
    );
  }
  const f = customGrad2((input, a, save) => {
    const aScalar = tf.reshape(a, []);
    const value = tf.minimum(tf.relu(input), aScalar);
    save([input, a]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, as] = saved as [tf.Tensor, tf.Tensor];
        const aS = tf.reshape(as, []);
        const inside = tf.logicalAnd(tf.greaterEqual(xs, 0), tf.less(xs, aS));
        const dx = tf.mul(dy, tf.cast(inside, 'float32'));
        const da = tf.reshape(
          tf.sum(tf.mul(dy, tf.cast(tf.greaterEqual(xs, aS), 'float32'))),
          as.shape,
        );
        return [dx, da];
      },
    };
  });
  return f(x, alpha);
}

/** ReLU6 clip (spec 4): min(max(x, 0), 6), gradient 1 inside (0, 6) (tf.relu6's own). */
export function relu6Clip(x: tf.Tensor): tf.Tensor {
  return tf.relu6(x);
}

/**
 * Spec 4 full activation path after a ReLU inside a residual block: clip (ReLU6 for actBits > 3,
 * PACT with `alpha` for actBits <= 3) then max-scaled rounding. actBits 0 is a plain ReLU.
 */
export function clipAndQuantize(x: tf.Tensor, actBits: number, alpha?: tf.Tensor): tf.Tensor {
  assertActBits(actBits);
  if (actBits === 0) return tf.relu(x);
  return tf.tidy(() => {
    let clipped: tf.Tensor;
    if (clipModeFor(actBits) === 'relu6') clipped = relu6Clip(x);
    else {
      if (!alpha) {
        throw new CsqError(
          'CSQ_NO_ALPHA',
          `actBits ${actBits} uses PACT, which needs a clip value alpha (spec 4).`,
        );
      }
      clipped = pactClip(x, alpha);
    }
    return quantizeActivation(clipped, actBits);
  });
}
