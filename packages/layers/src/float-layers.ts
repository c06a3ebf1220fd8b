/**
 * The float layers of the builders' networks: tf.layers.batchNormalization and tf.layers.conv2d
 * with faster training paths. They are subclasses that serialize as the tfjs classes they
 * extend ('BatchNormalization', 'Conv2D'), so saved models load in plain TensorFlow.js.
 *
 * - Batch norm in training runs as one fused op (batch statistics and normalization forward,
 *   all gradients backward) where the backend has csq's kernels `CsqBatchNormTraining` and
 *   `CsqBatchNormTrainingGrad` (@csq/backend-wasm-kernels registers them for wasm); elsewhere,
 *   and in inference, it is tfjs's own layer. Same math: biased batch variance, tfjs's moving
 *   averages.
 * - A conv without bias and activation runs tf.conv2d instead of tf.fused.conv2d: the fused op's
 *   gradient always computes the input gradient, which for a network's first conv (its input is
 *   data) is wasted work; tf.conv2d's gradient is computed only where the tape needs it.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/** The kernel names csq's fused batch norm looks up on the active backend. */
export const BATCH_NORM_TRAINING_KERNELS = {
  forward: 'CsqBatchNormTraining',
  gradient: 'CsqBatchNormTrainingGrad',
} as const;

/** True when the active backend has csq's fused batch-norm training kernels. */
export function hasFusedBatchNorm(): boolean {
  const b = tf.getBackend();
  return (
    tf.getKernel(BATCH_NORM_TRAINING_KERNELS.forward, b) != null &&
    tf.getKernel(BATCH_NORM_TRAINING_KERNELS.gradient, b) != null
  );
}

/**
 * Batch norm over every axis but the last, with batch statistics, as one op (the kernels of
 * {@link BATCH_NORM_TRAINING_KERNELS}, which must be registered): y and the batch's mean and
 * (biased) variance. The gradient flows to x, scale and offset; mean and variance are for the
 * moving averages (no gradient), and the caller disposes them.
 */
export function batchNormTraining(
  x: tf.Tensor,
  scale: tf.Tensor,
  offset: tf.Tensor,
  epsilon: number,
): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
  const attrs = { varianceEpsilon: epsilon } as unknown as tf.NamedAttrMap;
  let stats: tf.Tensor[] = [];
  const op = tf.customGrad((xx, g, b, save) => {
    const [y, mean, variance] = tf
      .engine()
      .runKernel(
        BATCH_NORM_TRAINING_KERNELS.forward,
        { x: xx as tf.Tensor, scale: g as tf.Tensor, offset: b as tf.Tensor },
        attrs,
      ) as tf.Tensor[];
    (save as tf.GradSaveFunc)([xx as tf.Tensor, g as tf.Tensor, mean!, variance!]);
    stats = [tf.keep(mean!), tf.keep(variance!)];
    return {
      value: y!,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sg, sm, sv] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        return tf
          .engine()
          .runKernel(
            BATCH_NORM_TRAINING_KERNELS.gradient,
            { dy, x: sx, scale: sg, mean: sm, variance: sv },
            attrs,
          ) as tf.Tensor[];
      },
    };
  });
  const y = (op as (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.Tensor)(x, scale, offset);
  return { y, mean: stats[0]!, variance: stats[1]! };
}

type BatchNormArgs = NonNullable<Parameters<typeof tfl.layers.batchNormalization>[0]>;
type ConvArgs = Parameters<typeof tfl.layers.conv2d>[0];
type LayerCall = tfl.layers.Layer['call'];
type Kwargs = Parameters<LayerCall>[1];

/** What the subclasses read of tfjs-layers' own fields (protected there, plain at runtime). */
interface BatchNormFields {
  axis: number;
  epsilon: number;
  momentum: number;
  center: boolean;
  scale: boolean;
  gamma: tfl.LayerVariable | null;
  beta: tfl.LayerVariable | null;
  movingMean: tfl.LayerVariable;
  movingVariance: tfl.LayerVariable;
}
interface ConvFields {
  rank: number;
  kernel: tfl.LayerVariable;
  bias: tfl.LayerVariable | null;
  activation: { getClassName(): string };
  strides: number[];
  padding: 'valid' | 'same' | 'causal';
  dataFormat: 'channelsFirst' | 'channelsLast';
  dilationRate: number | number[];
}

const BatchNormalizationBase = Object.getPrototypeOf(tfl.layers.batchNormalization({}))
  .constructor as new (
  args?: BatchNormArgs,
) => tfl.layers.Layer;
const Conv2DBase = Object.getPrototypeOf(tfl.layers.conv2d({ filters: 1, kernelSize: 1 }))
  .constructor as new (
  args: ConvArgs,
) => tfl.layers.Layer;

function oneTensor(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? inputs[0]! : inputs;
}

/** tf.layers.batchNormalization, fused in training where the backend allows (see the module). */
export class FusedBatchNormalization extends BatchNormalizationBase {
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const f = this as unknown as BatchNormFields;
    const x = oneTensor(inputs);
    const fused =
      kwargs?.['training'] === true &&
      (f.axis === -1 || f.axis === x.rank - 1) &&
      f.center &&
      f.scale &&
      f.gamma != null &&
      f.beta != null &&
      x.dtype === 'float32' &&
      x.size > 0 &&
      hasFusedBatchNorm();
    if (!fused) return super.call(inputs, kwargs);
    return tf.tidy(() => {
      const { y, mean, variance } = batchNormTraining(
        x,
        f.gamma!.read(),
        f.beta!.read(),
        f.epsilon,
      );
      // tfjs-layers' moving averages, step for step
      const update = (variable: tfl.LayerVariable, value: tf.Tensor) =>
        tf.tidy(() => {
          const orig = variable.read();
          variable.write(tf.sub(orig, tf.mul(tf.sub(orig, value), 1 - f.momentum)));
        });
      update(f.movingMean, mean);
      update(f.movingVariance, variance);
      tf.dispose([mean, variance]);
      return y;
    });
  }
}

/** tf.layers.conv2d, unfused when it has neither bias nor activation (see the module). */
export class FloatConv2D extends Conv2DBase {
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const f = this as unknown as ConvFields;
    const x = oneTensor(inputs);
    if (
      f.rank !== 2 ||
      f.bias != null ||
      f.activation.getClassName() !== 'linear' ||
      f.dataFormat !== 'channelsLast' ||
      f.padding === 'causal' ||
      x.dtype !== 'float32' ||
      x.rank !== 4
    ) {
      return super.call(inputs, kwargs);
    }
    return tf.tidy(() =>
      tf.conv2d(
        x as tf.Tensor4D,
        f.kernel.read() as tf.Tensor4D,
        f.strides as [number, number],
        f.padding as 'valid' | 'same',
        'NHWC',
        f.dilationRate as number | [number, number],
      ),
    );
  }
}
