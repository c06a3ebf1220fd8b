/**
 * `Conv2DBackpropFilter` for the wasm backend (wasm 4.22 has none). NHWC float32 with a multiple
 * of 8 output channels runs csq's SIMD kernel (kernels.wat `conv_filter_grad`: a register tile
 * of 4 input x 8 output channels, one image at a time, any number of input channels including
 * 1; split across csq's kernel threads by output-channel blocks in the threaded build); other
 * cases are composed from wasm's own kernels (see conv-backprop.ts for the math).
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  type ConvPad,
  filterGradNHWC,
  geometry,
  NCHW_TO_NHWC,
  type Rounding,
  type Shape4,
  withOps,
} from '../conv-backprop.js';
import type { WasmLikeBackend } from '../kernel-ops.js';
import type { WasmKernelSpec } from '../kernel-spec.js';
import { partCount, runKernelParts, splitRange } from '../wasm/pool.js';
import { f32View, ptr, Scratch, simdFor, type WasmBackendInternals } from '../wasm/simd.js';

type TensorInfo = tf.TensorInfo;

/** Below this many multiply-adds per thread, waking a worker costs more than it saves. */
const MIN_MACS_PER_PART = 1 << 18;

/** Kernel `Conv2DBackpropFilter` (inputs x, dy; attrs as tfjs-core's op). */
export const conv2DBackpropFilter: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
    strides: number | [number, number];
    pad: ConvPad;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode: Rounding;
    filterShape: Shape4;
  };
  const format = tf.backend_util.convertConv2DDataFormat(dataFormat ?? 'NHWC');
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as Shape4,
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    format,
  );
  const simd = simdFor(backend);
  if (
    simd != null &&
    format === 'channelsLast' &&
    x.dtype === 'float32' &&
    dy.dtype === 'float32' &&
    info.outChannels % 8 === 0
  ) {
    const b = backend as WasmBackendInternals;
    const dw = b.makeOutput(filterShape, 'float32');
    const scratch = new Scratch(b);
    try {
      const geoP = scratch.alloc(15 * 4);
      scratch
        .i32(geoP, 15)
        .set([
          info.batchSize,
          info.inHeight,
          info.inWidth,
          info.inChannels,
          info.outHeight,
          info.outWidth,
          info.outChannels,
          info.filterHeight,
          info.filterWidth,
          info.strideHeight,
          info.strideWidth,
          info.dilationHeight,
          info.dilationWidth,
          info.padInfo.top,
          info.padInfo.left,
        ]);
      f32View(b, dw).fill(0);
      // threads split the output channels (blocks of 8): disjoint parts of dw, each entry
      // summed in the same order as on one thread (bit-exact)
      const macs =
        info.batchSize * info.outHeight * info.outWidth * info.filterHeight * info.filterWidth;
      const blocks = info.outChannels / 8;
      const parts = partCount(b, macs * info.inChannels * info.outChannels, MIN_MACS_PER_PART);
      const [xP, dyP, dwP] = [ptr(b, x), ptr(b, dy), ptr(b, dw)];
      runKernelParts(
        b,
        simd,
        'conv_filter_grad_range',
        splitRange(blocks, parts).map(([c0, c1]) => [xP, dyP, dwP, geoP, c0 * 8, c1 * 8]),
      );
    } finally {
      scratch.free();
    }
    return dw;
  }
  return withOps(backend as WasmLikeBackend, (ops) => {
    const nchw = format === 'channelsFirst';
    const xh = nchw ? ops.transpose(x, NCHW_TO_NHWC) : x;
    const dyh = nchw ? ops.transpose(dy, NCHW_TO_NHWC) : dy;
    return filterGradNHWC(ops, xh, dyh, geometry(info), false, filterShape);
  });
};

/** Registration of `Conv2DBackpropFilter`. */
export const conv2DBackpropFilterSpec: WasmKernelSpec = {
  kernelName: 'Conv2DBackpropFilter',
  reason: 'missing',
  make: () => conv2DBackpropFilter,
};
