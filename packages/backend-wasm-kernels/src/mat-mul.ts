/**
 * Fast transposed matrix products for the wasm backend. wasm 4.22's BatchMatMul and _FusedMatMul
 * hand a product to XNNPACK only when neither operand is transposed and the batch is 1; every
 * other case runs a naive triple loop. Backpropagation through a dense layer asks for exactly
 * those transposed products (dy W^T and x^T dy), so this wrapper transposes the operands with
 * wasm's Transpose kernel (linear time) and calls the original kernel untransposed.
 */
import * as tf from '@tensorflow/tfjs-core';
import { KernelOps, type WasmLikeBackend } from './kernel-ops.js';

type TensorInfo = tf.TensorInfo;

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

function batchOf(t: TensorInfo): number {
  return tf.util.sizeFromShape(t.shape.slice(0, -2));
}

/** Wraps a BatchMatMul / _FusedMatMul kernel so that transposed single-batch products are fast. */
export function untransposedMatMul(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA, transposeB } = (attrs ?? {}) as {
      transposeA?: boolean;
      transposeB?: boolean;
    };
    if (
      (!transposeA && !transposeB) ||
      a.dtype !== 'float32' ||
      b.dtype !== 'float32' ||
      batchOf(a) !== 1 ||
      batchOf(b) !== 1
    ) {
      return original(args);
    }
    const ops = new KernelOps(backend as WasmLikeBackend);
    try {
      // the wasm kernels expect rank-3 operands [1, rows, cols]
      const a3 = ops.reshape(a, [1, ...a.shape.slice(-2)]);
      const b3 = ops.reshape(b, [1, ...b.shape.slice(-2)]);
      const at = transposeA ? ops.transpose(a3, swapLastTwo(3)) : a3;
      const bt = transposeB ? ops.transpose(b3, swapLastTwo(3)) : b3;
      const out = original({
        inputs: { ...inputs, a: at, b: bt },
        backend,
        attrs: { ...attrs, transposeA: false, transposeB: false },
      }) as TensorInfo;
      const rows = at.shape[1]!;
      const cols = bt.shape[2]!;
      const outer = tf.broadcast_util.assertAndGetBroadcastShape(
        a.shape.slice(0, -2),
        b.shape.slice(0, -2),
      );
      const outShape = [...outer, rows, cols];
      if (tf.util.arraysEqual(out.shape, outShape)) return out;
      const reshaped = ops.keep(ops.reshape(out, outShape));
      (backend as WasmLikeBackend).disposeData(out.dataId);
      return reshaped;
    } finally {
      ops.dispose();
    }
  };
}
