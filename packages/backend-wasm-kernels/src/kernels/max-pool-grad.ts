/**
 * `MaxPoolGrad` for the wasm backend in WebAssembly SIMD (kernels.wat `max_pool_grad`): each
 * window's first strict maximum (rows, then columns, as tfjs-backend-cpu) receives dy; four
 * channels per step; the common 2x2 stride-2 pool without padding in one pass that writes dx
 * directly (`max_pool_grad_2x2`). wasm's own is a scalar C++ loop.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WasmKernelSpec } from '../kernel-spec.js';
import { f32View, ptr, Scratch, simdFor, type WasmBackendInternals } from '../wasm/simd.js';

type TensorInfo = tf.TensorInfo;

function maxPoolGradSimd(original: tf.KernelFunc | undefined): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as {
      filterSize: number | [number, number];
      strides: number | [number, number];
      pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
    };
    const simd = simdFor(backend);
    if (simd == null || input.dtype !== 'float32' || input.shape.length !== 4) {
      if (original == null) throw new Error('MaxPoolGrad: the SIMD module is not available');
      return original(args);
    }
    const info = tf.backend_util.computePool2DInfo(
      input.shape as [number, number, number, number],
      filterSize,
      strides,
      1,
      pad,
      dimRoundingMode,
    );
    const b = backend as WasmBackendInternals;
    const dx = b.makeOutput(input.shape, 'float32');
    const [n, h, w, ch] = input.shape as [number, number, number, number];
    const { outHeight: oh, outWidth: ow } = info;
    const covers = 2 * oh === h && 2 * ow === w;
    if (
      info.effectiveFilterHeight === 2 &&
      info.effectiveFilterWidth === 2 &&
      info.strideHeight === 2 &&
      info.strideWidth === 2 &&
      info.padInfo.top === 0 &&
      info.padInfo.left === 0 &&
      2 * oh <= h &&
      2 * ow <= w &&
      ch % 4 === 0
    ) {
      // the common 2x2 pool: one pass writes every covered dx (the rest, if any, is zeroed first)
      if (!covers) f32View(b, dx).fill(0);
      simd.max_pool_grad_2x2(ptr(b, input), ptr(b, dy), ptr(b, dx), n, h, w, ch, oh, ow);
      return dx;
    }
    const scratch = new Scratch(b);
    try {
      const geoP = scratch.alloc(10 * 4);
      scratch
        .i32(geoP, 10)
        .set([
          info.inHeight,
          info.inWidth,
          info.outHeight,
          info.outWidth,
          info.effectiveFilterHeight,
          info.effectiveFilterWidth,
          info.strideHeight,
          info.strideWidth,
          info.padInfo.top,
          info.padInfo.left,
        ]);
      f32View(b, dx).fill(0);
      simd.max_pool_grad(
        ptr(b, input),
        ptr(b, dy),
        ptr(b, dx),
        info.batchSize,
        info.inChannels,
        geoP,
      );
    } finally {
      scratch.free();
    }
    return dx;
  };
}

/** Registration of `MaxPoolGrad` (wasm's own for what this one does not cover). */
export const maxPoolGradSpec: WasmKernelSpec = {
  kernelName: 'MaxPoolGrad',
  reason: 'faster',
  make: (original) => maxPoolGradSimd(original),
};
