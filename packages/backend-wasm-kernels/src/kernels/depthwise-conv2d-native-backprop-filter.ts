/**
 * `DepthwiseConv2dNativeBackpropFilter` for the wasm backend (wasm 4.22 has none), composed from
 * wasm's own kernels: see conv-backprop.ts for the math.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  type ConvPad,
  filterGradNHWC,
  geometry,
  type Rounding,
  type Shape4,
  withOps,
} from '../conv-backprop.js';
import type { WasmLikeBackend } from '../kernel-ops.js';
import type { WasmKernelSpec } from '../kernel-spec.js';

type TensorInfo = tf.TensorInfo;

/** Kernel `DepthwiseConv2dNativeBackpropFilter` (inputs x, dy). */
export const depthwiseConv2dNativeBackpropFilter: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs as unknown as {
    strides: number | [number, number];
    dilations: number | [number, number];
    pad: ConvPad;
    dimRoundingMode: Rounding;
    filterShape: Shape4;
  };
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as Shape4,
    filterShape,
    strides,
    dilations ?? 1,
    pad,
    dimRoundingMode,
    true,
  );
  return withOps(backend as WasmLikeBackend, (ops) =>
    filterGradNHWC(ops, x, dy, geometry(info), true, filterShape),
  );
};

/** Registration of `DepthwiseConv2dNativeBackpropFilter`. */
export const depthwiseConv2dNativeBackpropFilterSpec: WasmKernelSpec = {
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  reason: 'missing',
  make: () => depthwiseConv2dNativeBackpropFilter,
};
