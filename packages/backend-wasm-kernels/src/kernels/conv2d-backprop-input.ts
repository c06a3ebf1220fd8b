/**
 * `Conv2DBackpropInput` for the wasm backend (faster than wasm 4.22's own), composed from
 * wasm's own kernels: strided NHWC float32 convolutions by sub-pixel phases
 * (conv-input-phases.ts), the rest by zero insertion (conv-backprop.ts has the math).
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  type ConvPad,
  geometry,
  inputGradNHWC,
  NCHW_TO_NHWC,
  NHWC_TO_NCHW,
  type Rounding,
  type Shape4,
  withOps,
} from '../conv-backprop.js';
import { inputGradByPhases } from '../conv-input-phases.js';
import type { WasmLikeBackend } from '../kernel-ops.js';
import type { WasmKernelSpec } from '../kernel-spec.js';
import { simdFor } from '../wasm/simd.js';

type TensorInfo = tf.TensorInfo;

/** Kernel `Conv2DBackpropInput` (inputs dy, filter; attrs as tfjs-core's op). */
export const conv2DBackpropInput: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as {
    strides: number | [number, number];
    pad: ConvPad;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode: Rounding;
    inputShape: Shape4;
  };
  const format = tf.backend_util.convertConv2DDataFormat(dataFormat ?? 'NHWC');
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as Shape4,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    format,
  );
  const simd = simdFor(backend);
  const strided = info.strideHeight > 1 || info.strideWidth > 1;
  const phases = simd != null && strided && dy.dtype === 'float32' && filter.dtype === 'float32';
  return withOps(backend as WasmLikeBackend, (ops) => {
    const nchw = format === 'channelsFirst';
    const dyh = nchw ? ops.transpose(dy, NCHW_TO_NHWC) : dy;
    const inNHWC: Shape4 = [info.batchSize, info.inHeight, info.inWidth, info.inChannels];
    const g = geometry(info);
    const dx = phases
      ? inputGradByPhases(ops, simd, dyh, filter, g, inNHWC)
      : inputGradNHWC(ops, dyh, filter, g, false, inNHWC);
    return nchw ? ops.transpose(dx, NHWC_TO_NCHW) : dx;
  });
};

/** Registration of `Conv2DBackpropInput`. */
export const conv2DBackpropInputSpec: WasmKernelSpec = {
  kernelName: 'Conv2DBackpropInput',
  reason: 'faster',
  make: () => conv2DBackpropInput,
};
