/**
 * Fast Tile for the wasm backend. wasm 4.22's Tile walks the output one element at a time with
 * index arithmetic (about 10x slower than a broadcast); the batch-norm gradient tiles a
 * [1, 1, 1, C] tensor to the full activation shape for every BN layer, which made Tile the
 * largest kernel of a ResNet-20 training step. Here tile(x, reps) is a broadcasting Add of x and
 * zeros (XNNPACK's add_nd): viewing output axis i as [reps_i, d_i], x has shape [1, d_i] and the
 * zeros [reps_i, 1]; adjacent factors of the same kind are merged to keep the rank small.
 */
import * as tf from '@tensorflow/tfjs-core';
import { KernelOps, type WasmLikeBackend } from './kernel-ops.js';

type TensorInfo = tf.TensorInfo;

/** Highest broadcast rank handed to wasm's Add (XNNPACK's limit is larger; 4 is always safe). */
const MAX_RANK = 4;

/** Shapes of x, the zeros and the result for tile(x, reps) as a broadcast; null if too high rank. */
export function tileAsBroadcast(
  shape: readonly number[],
  reps: readonly number[],
): { xShape: number[]; zerosShape: number[] } | null {
  const xShape: number[] = [];
  const zerosShape: number[] = [];
  let last: 'rep' | 'data' | null = null;
  const push = (kind: 'rep' | 'data', n: number) => {
    if (n === 1) return;
    if (kind === last) {
      const i = xShape.length - 1;
      xShape[i] = xShape[i]! * (kind === 'data' ? n : 1);
      zerosShape[i] = zerosShape[i]! * (kind === 'rep' ? n : 1);
      return;
    }
    xShape.push(kind === 'data' ? n : 1);
    zerosShape.push(kind === 'rep' ? n : 1);
    last = kind;
  };
  shape.forEach((d, i) => {
    push('rep', reps[i]!); // the repeat index is the outer part of output axis i
    push('data', d);
  });
  if (xShape.length === 0 || xShape.length > MAX_RANK) return null;
  return { xShape, zerosShape };
}

/** Wraps wasm's Tile: float32 tiles become one broadcasting Add; others use the original. */
export function broadcastTile(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const x = inputs.x as TensorInfo;
    const reps = (attrs as { reps: number[] }).reps;
    const plan = x.dtype === 'float32' && reps.some((r) => r > 1) && tileAsBroadcast(x.shape, reps);
    if (!plan || tf.util.sizeFromShape(x.shape) === 0) return original(args);
    const ops = new KernelOps(backend as WasmLikeBackend);
    try {
      const zeros = ops.run('Fill', {}, { shape: plan.zerosShape, value: 0, dtype: 'float32' });
      const sum = ops.run('Add', { a: ops.reshape(x, plan.xShape), b: zeros });
      return ops.keep(
        ops.reshape(
          sum,
          x.shape.map((d, i) => d * reps[i]!),
        ),
      );
    } finally {
      ops.dispose();
    }
  };
}
