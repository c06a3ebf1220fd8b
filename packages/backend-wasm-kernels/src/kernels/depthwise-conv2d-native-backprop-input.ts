/**
 * `DepthwiseConv2dNativeBackpropInput` for the wasm backend (wasm 4.22 has none), composed from
 * wasm's own kernels: see conv-backprop.ts for the math.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  type ConvPad,
  geometry,
  inputGradNHWC,
  type Rounding,
  type Shape4,
  withOps,
} from '../conv-backprop.js';
import type { WasmLikeBackend } from '../kernel-ops.js';
import type { WasmKernelSpec } from '../kernel-spec.js';

type TensorInfo = tf.TensorInfo;

/** Kernel `DepthwiseConv2dNativeBackpropInput` (inputs dy, filter). */
export const depthwiseConv2dNativeBackpropInput: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs as unknown as {
    strides: number | [number, number];
    dilations: number | [number, number];
    pad: ConvPad;
    dimRoundingMode: Rounding;
    inputShape: Shape4;
  };
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as Shape4,
    strides,
    dilations ?? 1,
    pad,
    dimRoundingMode,
    true,
  );
  return withOps(backend as WasmLikeBackend, (ops) =>
    inputGradNHWC(ops, dy, filter, geometry(info), true, inputShape),
  );
};

/** Registration of `DepthwiseConv2dNativeBackpropInput`. */
export const depthwiseConv2dNativeBackpropInputSpec: WasmKernelSpec = {
  kernelName: 'DepthwiseConv2dNativeBackpropInput',
  reason: 'missing',
  make: () => depthwiseConv2dNativeBackpropInput,
};
