/**
 * Strided convolution input gradient by sub-pixel phases, without zero insertion. With stride s
 * (dilation 1), dx row y gets dy row oh through filter tap kh exactly when oh s + kh = y + top;
 * writing y + top = s Y + r, the taps of phase r are kh = r + s j and oh = Y - j, so
 *   dx[s Y + r - top] = sum_j dy[Y - j] W[r + s j]
 * is a stride-1 convolution of dy by the phase's taps (reversed, input and output channels
 * swapped). Each of the s x s phases is one XNNPACK convolution over dy with 1/s^2 of the taps;
 * csq's SIMD `phase_scatter` interleaves the phases into dx. The zero-insertion route convolves
 * an s^2 times larger, mostly zero, input with every tap.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Geometry, Shape4 } from './conv-backprop.js';
import type { KernelOps, Paddings } from './kernel-ops.js';
import { MIN_ELEMENTS_PER_PART, partCount, runKernelParts, splitRange } from './wasm/pool.js';
import { ptr, Scratch, type SimdExports, type WasmBackendInternals } from './wasm/simd.js';

type TensorInfo = tf.TensorInfo;

/** dx [N, H, W, Ci] of a stride > 1, dilation 1 convolution, from dy (NHWC) and the filter. */
export function inputGradByPhases(
  ops: KernelOps,
  simd: SimdExports,
  dy: TensorInfo,
  filter: TensorInfo,
  g: Geometry,
  inShape: Shape4,
): TensorInfo {
  const b = ops.backend as unknown as WasmBackendInternals;
  const [n, h, w, ci] = inShape;
  const [kh, kw, , co] = filter.shape as Shape4;
  const [, oh, ow] = dy.shape as Shape4;
  const dx = ops.run('Fill', {}, { shape: inShape, value: 0, dtype: 'float32' });
  const scratch = new Scratch(b);
  try {
    // threads split the images: disjoint parts of dx (bit-exact); one geometry per part
    const imgs = splitRange(n, partCount(b, n * h * w * ci, MIN_ELEMENTS_PER_PART));
    const geoPs = imgs.map(() => scratch.alloc(12 * 4));
    for (let rh = 0; rh < Math.min(g.sh, kh); rh++) {
      for (let rw = 0; rw < Math.min(g.sw, kw); rw++) {
        const jh = Math.ceil((kh - rh) / g.sh);
        const jw = Math.ceil((kw - rw) / g.sw);
        // phase rows Y with s Y + rh - top < H, columns likewise
        const ys = Math.floor((h - 1 + g.top - rh) / g.sh) + 1;
        const xs = Math.floor((w - 1 + g.left - rw) / g.sw) + 1;
        if (ys <= 0 || xs <= 0) continue;
        const taps = ops.run(
          'StridedSlice',
          { x: filter },
          {
            begin: [rh, rw, 0, 0],
            end: [kh, kw, ci, co],
            strides: [g.sh, g.sw, 1, 1],
            beginMask: 0,
            endMask: 0,
            ellipsisMask: 0,
            newAxisMask: 0,
            shrinkAxisMask: 0,
          },
        );
        const f = ops.transpose(ops.reverse(taps, [0, 1]), [0, 1, 3, 2]); // [jh, jw, Co, Ci]
        // O[Y] = sum_t dyPadded[Y + t] F[t], dy padded by jh - 1 rows on top, ys - oh below
        const bottom = ys - oh;
        const right = xs - ow;
        const src = ops.padOrCrop(dy, [
          [0, 0],
          [0, Math.min(0, bottom)],
          [0, Math.min(0, right)],
          [0, 0],
        ]);
        const pads: Paddings = [
          [0, 0],
          [jh - 1, Math.max(0, bottom)],
          [jw - 1, Math.max(0, right)],
          [0, 0],
        ];
        const phase = ops.conv2d(src, f, [1, 1], [1, 1], pads); // [N, ys, xs, Ci]
        const [srcP, dstP] = [ptr(b, phase), ptr(b, dx)];
        const parts = imgs.map(([b0, b1], i) => {
          const geoP = geoPs[i]!;
          scratch.i32(geoP, 12).set([b1 - b0, ys, xs, ci, h, w, g.sh, g.sw, rh, rw, g.top, g.left]);
          return [srcP + b0 * ys * xs * ci * 4, dstP + b0 * h * w * ci * 4, geoP];
        });
        runKernelParts(b, simd, 'phase_scatter', parts);
      }
    }
  } finally {
    scratch.free();
  }
  return dx;
}
