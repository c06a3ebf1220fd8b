/**
 * Fast Sum and Mean over outer axes for the wasm backend. wasm 4.22 reduces only innermost axes,
 * so a reduction over [N, H, W] of an NHWC activation (batch-norm statistics and every gradient
 * of a batch norm) first transposes the whole tensor. Here a float32 reduction over one
 * contiguous block of axes followed by kept axes is an average pooling (XNNPACK's avgpool, no
 * transpose): x viewed as [outer, R, 1, inner], pooled by an [R, 1] window, times R for a sum.
 * About 10x faster on ResNet-20's batch-norm shapes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { KernelOps, type WasmLikeBackend } from './kernel-ops.js';

type TensorInfo = tf.TensorInfo;

/**
 * [outer, reduced, inner] sizes when `axes` of `shape` are one contiguous block with kept axes
 * after it (inner > 1) and more than one element is reduced; otherwise null (wasm's own kernel
 * is the right one: innermost reductions need no transpose).
 */
export function outerReduction(
  shape: readonly number[],
  axes: readonly number[],
): [number, number, number] | null {
  const sorted = [...new Set(axes)].sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const first = sorted[0]!;
  const last = sorted[sorted.length - 1]!;
  if (last - first + 1 !== sorted.length) return null; // not contiguous
  const outer = tf.util.sizeFromShape(shape.slice(0, first));
  const reduced = tf.util.sizeFromShape(shape.slice(first, last + 1));
  const inner = tf.util.sizeFromShape(shape.slice(last + 1));
  if (inner <= 1 || reduced <= 1) return null;
  return [outer, reduced, inner];
}

function poolingReduce(original: tf.KernelFunc, scaleBySize: boolean): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const x = inputs.x as TensorInfo;
    const { axis, keepDims } = attrs as { axis: number | number[]; keepDims: boolean };
    const axes = tf.util.parseAxisParam(axis, x.shape);
    const plan = x.dtype === 'float32' ? outerReduction(x.shape, axes) : null;
    if (plan == null) return original(args);
    const [outer, reduced, inner] = plan;
    const outShape = keepDims
      ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
      : x.shape.filter((_, i) => !axes.includes(i));
    const ops = new KernelOps(backend as WasmLikeBackend);
    try {
      const pooled = ops.run(
        'AvgPool',
        { x: ops.reshape(x, [outer, reduced, 1, inner]) },
        { filterSize: [reduced, 1], strides: [1, 1], pad: 'valid' },
      );
      let out = pooled;
      if (scaleBySize) {
        const size = ops.run('Fill', {}, { shape: [], value: reduced, dtype: 'float32' });
        out = ops.run('Multiply', { a: pooled, b: size });
      }
      return ops.keep(ops.reshape(out, outShape));
    } finally {
      ops.dispose();
    }
  };
}

/** Wraps wasm's Sum: outer-axis float32 sums become an average pooling times the count. */
export function poolingSum(original: tf.KernelFunc): tf.KernelFunc {
  return poolingReduce(original, true);
}

/** Wraps wasm's Mean: outer-axis float32 means become an average pooling. */
export function poolingMean(original: tf.KernelFunc): tf.KernelFunc {
  return poolingReduce(original, false);
}
