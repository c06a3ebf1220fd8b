/**
 * One training step: forward in training mode, softmax cross-entropy plus the budget term,
 * gradients, the SGD-momentum update, and one read of the step's numbers.
 */
import type { BudgetRegularizer } from '@csq/budget';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { SgdMomentum } from './optimizer.js';

/** What one training step reports (means over the batch; `correct` is a count). */
export interface StepStats {
  loss: number;
  ce: number;
  penalty: number;
  correct: number;
}

/** Softmax cross-entropy of logits (or of probabilities when the model ends in softmax). */
function crossEntropy(outputs: tf.Tensor, labels: tf.Tensor1D, probabilities: boolean): tf.Scalar {
  return tf.tidy(() => {
    const classes = outputs.shape[outputs.rank - 1]!;
    const oneHot = tf.oneHot(labels, classes);
    if (probabilities) {
      const p = tf.sum(tf.mul(oneHot, outputs), -1);
      return tf.neg(tf.mean(tf.log(tf.add(p, 1e-7)))) as tf.Scalar;
    }
    const lse = tf.logSumExp(outputs, -1);
    return tf.mean(tf.sub(lse, tf.sum(tf.mul(oneHot, outputs), -1))) as tf.Scalar;
  });
}

/** True when the model's last layer applies softmax (its outputs are probabilities). */
export function endsInSoftmax(model: tfl.LayersModel): boolean {
  const out = model.outputLayers[model.outputLayers.length - 1];
  const act = (out?.getConfig() as { activation?: unknown } | undefined)?.activation;
  return act === 'softmax';
}

/**
 * One training step of the loop, exactly as `train` runs it: forward in training mode, softmax
 * cross-entropy plus the budget term, gradients of `vars`, the SGD-momentum update with weight
 * decay, and one read of the step's numbers. Exported for benchmarks and custom loops.
 */
export function createTrainStep(
  model: tfl.LayersModel,
  opts: { optimizer: SgdMomentum; budget?: BudgetRegularizer; probabilities?: boolean },
): (
  x: tf.Tensor,
  labels: tf.Tensor1D,
  args: { lr: number; vars: tf.Variable[]; withPenalty: boolean },
) => Promise<StepStats> {
  const probabilities = opts.probabilities ?? endsInSoftmax(model);
  return async (x, labels, { lr, vars, withPenalty }) => {
    let kept: tf.Tensor[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const outputs = model.apply(x, { training: true }) as tf.Tensor;
      const ce = crossEntropy(outputs, labels, probabilities);
      const penalty = withPenalty && opts.budget ? opts.budget.penalty() : tf.scalar(0);
      const correct = tf.sum(tf.cast(tf.equal(tf.argMax(outputs, -1), labels), 'float32'));
      kept = [tf.keep(ce), tf.keep(penalty), tf.keep(correct)];
      return tf.add(ce, penalty) as tf.Scalar;
    }, vars);
    opts.optimizer.step(
      vars,
      vars.map((v) => grads[v.name]),
      lr,
    );
    const statsT = tf.stack([value, ...kept]);
    const stats = await statsT.data();
    tf.dispose([statsT, value, ...kept, ...Object.values(grads)]);
    return { loss: stats[0]!, ce: stats[1]!, penalty: stats[2]!, correct: stats[3]! };
  };
}
