/**
 * Convolution gradients for the wasm backend, composed from wasm's own kernels (Conv2D,
 * DepthwiseConv2dNative, Transpose, Reshape, PadV2, Slice, Reverse, Sum): XNNPACK does the
 * arithmetic, so these run at forward-convolution speed.
 *
 * Notation (NHWC): x [N, H, W, Ci], filter [KH, KW, Ci, Co] (depthwise: [KH, KW, C, M]),
 * dy [N, OH, OW, Co]; stride s, dilation d, padding `top`/`left` from tfjs's conv info.
 *
 * Filter gradient (tfjs-backend-cpu Conv2DBackpropFilter):
 *   dW[kh, kw, ci, co] = sum_{n, oh, ow} x[n, oh*s + kh*d - top, ow*s + kw*d - left, ci] dy[n, oh, ow, co]
 * which is itself a convolution: batch ci, input channels n, filter dy, stride d, dilation s.
 *
 * Input gradient:
 *   dx[n, y, x, ci] = sum_{kh, kw, co} dy[n, oh, ow, co] W[kh, kw, ci, co], y + top = oh*s + kh*d
 * which is a stride-1 convolution of dy with s - 1 zeros inserted between its rows and columns,
 * by the spatially flipped filter with ci and co swapped (for depthwise: the flipped filter, then
 * a sum over the channel multiplier).
 */
import type * as tf from '@tensorflow/tfjs-core';
import { KernelOps, type Paddings, type WasmLikeBackend } from './kernel-ops.js';

type TensorInfo = tf.TensorInfo;
export type Shape4 = [number, number, number, number];
export type ConvPad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
export type Rounding = 'floor' | 'round' | 'ceil' | undefined;

export interface Geometry {
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  top: number;
  left: number;
}

export function geometry(info: tf.backend_util.Conv2DInfo): Geometry {
  return {
    kh: info.filterHeight,
    kw: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    dh: info.dilationHeight,
    dw: info.dilationWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
  };
}

export const NCHW_TO_NHWC = [0, 2, 3, 1];
export const NHWC_TO_NCHW = [0, 3, 1, 2];

/** Filter gradient of a (depthwise) convolution, x and dy in NHWC. */
export function filterGradNHWC(
  ops: KernelOps,
  x: TensorInfo,
  dy: TensorInfo,
  g: Geometry,
  depthwise: boolean,
  filterShape: Shape4,
): TensorInfo {
  const [n, h, w, c] = x.shape as Shape4;
  const [, oh, ow, co] = dy.shape as Shape4;
  // the rows and columns of x that the filter taps reach, zero-padded or cropped to that extent
  const needH = (oh - 1) * g.sh + (g.kh - 1) * g.dh + 1;
  const needW = (ow - 1) * g.sw + (g.kw - 1) * g.dw + 1;
  const xp = ops.padOrCrop(x, [
    [0, 0],
    [g.top, needH - g.top - h],
    [g.left, needW - g.left - w],
    [0, 0],
  ]);
  if (!depthwise) {
    // batch <- ci, channels <- n; the filter is dy with n as its input channels
    const xt = ops.transpose(xp, [3, 1, 2, 0]); // [Ci, needH, needW, N]
    const dyt = ops.transpose(dy, [1, 2, 0, 3]); // [OH, OW, N, Co]
    const out = ops.conv2d(xt, dyt, [g.dh, g.dw], [g.sh, g.sw], 'valid'); // [Ci, KH, KW, Co]
    return ops.transpose(out, [1, 2, 0, 3]);
  }
  // depthwise: channels <- (n, c) pairs, one depthwise filter tap per (oh, ow), then sum over n
  const m = filterShape[3];
  const xt = ops.reshape(ops.transpose(xp, [1, 2, 0, 3]), [1, needH, needW, n * c]);
  const dyt = ops.reshape(ops.transpose(dy, [1, 2, 0, 3]), [oh, ow, n * c, co / c]);
  const out = ops.depthwiseConv2d(xt, dyt, [g.dh, g.dw], [g.sh, g.sw], 'valid'); // [1, KH, KW, N*C*M]
  if (n === 1) return ops.reshape(out, filterShape);
  const summed = ops.sum(ops.reshape(out, [g.kh * g.kw, n, c * m]), [1]);
  return ops.reshape(summed, filterShape);
}

/** Input gradient of a (depthwise) convolution, dy in NHWC, result [N, H, W, Ci]. */
export function inputGradNHWC(
  ops: KernelOps,
  dy: TensorInfo,
  filter: TensorInfo,
  g: Geometry,
  depthwise: boolean,
  inShapeNHWC: Shape4,
): TensorInfo {
  const [, h, w] = inShapeNHWC;
  const [, oh, ow] = dy.shape as Shape4;
  const dyz = ops.zeroInsert(dy, g.sh, g.sw); // [N, OH*sh, OW*sw, Co]
  const padTop = (g.kh - 1) * g.dh - g.top;
  const padBottom = h - oh * g.sh + g.top;
  const padLeft = (g.kw - 1) * g.dw - g.left;
  const padRight = w - ow * g.sw + g.left;
  // negative amounts crop dy (rows no output reaches); positive ones are the conv's own padding
  const cropped = ops.padOrCrop(dyz, [
    [0, 0],
    [Math.min(0, padTop), Math.min(0, padBottom)],
    [Math.min(0, padLeft), Math.min(0, padRight)],
    [0, 0],
  ]);
  const pads: Paddings = [
    [0, 0],
    [Math.max(0, padTop), Math.max(0, padBottom)],
    [Math.max(0, padLeft), Math.max(0, padRight)],
    [0, 0],
  ];
  const flipped = ops.reverse(filter, [0, 1]);
  if (!depthwise) {
    const wt = ops.transpose(flipped, [0, 1, 3, 2]); // [KH, KW, Co, Ci]
    return ops.conv2d(cropped, wt, [1, 1], [g.dh, g.dw], pads);
  }
  const [kh, kw, c, m] = filter.shape as Shape4;
  const wt = ops.reshape(flipped, [kh, kw, c * m, 1]);
  const out = ops.depthwiseConv2d(cropped, wt, [1, 1], [g.dh, g.dw], pads); // [N, H, W, C*M]
  if (m === 1) return out;
  const [n] = inShapeNHWC;
  return ops.reshape(ops.sum(ops.reshape(out, [n, h, w, c, m]), [4]), inShapeNHWC);
}

/** Runs `f` with a fresh KernelOps, keeps its result and frees every intermediate. */
export function withOps(backend: WasmLikeBackend, f: (ops: KernelOps) => TensorInfo): TensorInfo {
  const ops = new KernelOps(backend);
  try {
    return ops.keep(f(ops));
  } finally {
    ops.dispose();
  }
}
