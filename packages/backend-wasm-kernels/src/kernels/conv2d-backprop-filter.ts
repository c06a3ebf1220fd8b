/**
 * `Conv2DBackpropFilter` for the wasm backend (wasm 4.22 has none), composed from
 * wasm's own kernels: see conv-backprop.ts for the math.
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

type TensorInfo = tf.TensorInfo;

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
