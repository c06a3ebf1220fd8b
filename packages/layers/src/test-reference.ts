/**
 * Test-only float64 references (not exported from the package): convolution and dense in plain
 * JavaScript, independent of tfjs, for forward checks and finite differences.
 */
import * as tf from '@tensorflow/tfjs';
import type { CsqLayer } from './csq-layer.js';

/** NHWC 'valid' or 'same' convolution with stride 1, kernel [kh, kw, inC, outC], float64. */
export function conv2dRef(
  x: ArrayLike<number>,
  xShape: [number, number, number, number],
  k: ArrayLike<number>,
  kShape: [number, number, number, number],
  padding: 'valid' | 'same',
): { y: Float64Array; shape: [number, number, number, number] } {
  const [b, h, w, c] = xShape;
  const [kh, kw, , oc] = kShape;
  const oh = padding === 'same' ? h : h - kh + 1;
  const ow = padding === 'same' ? w : w - kw + 1;
  const padTop = padding === 'same' ? Math.floor((kh - 1) / 2) : 0;
  const padLeft = padding === 'same' ? Math.floor((kw - 1) / 2) : 0;
  const y = new Float64Array(b * oh * ow * oc);
  for (let n = 0; n < b; n++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++)
        for (let o = 0; o < oc; o++) {
          let acc = 0;
          for (let di = 0; di < kh; di++)
            for (let dj = 0; dj < kw; dj++) {
              const ii = i + di - padTop;
              const jj = j + dj - padLeft;
              if (ii < 0 || jj < 0 || ii >= h || jj >= w) continue;
              for (let ci = 0; ci < c; ci++) {
                acc +=
                  x[((n * h + ii) * w + jj) * c + ci]! * k[((di * kw + dj) * c + ci) * oc + o]!;
              }
            }
          y[((n * oh + i) * ow + j) * oc + o] = acc;
        }
  return { y, shape: [b, oh, ow, oc] };
}

/** y = x W (+ bias) for x [b, in], W [in, out], float64. */
export function denseRef(
  x: ArrayLike<number>,
  b: number,
  w: ArrayLike<number>,
  inDim: number,
  outDim: number,
  bias?: ArrayLike<number>,
): Float64Array {
  const y = new Float64Array(b * outDim);
  for (let n = 0; n < b; n++)
    for (let o = 0; o < outDim; o++) {
      let acc = bias ? bias[o]! : 0;
      for (let i = 0; i < inDim; i++) acc += x[n * inDim + i]! * w[i * outDim + o]!;
      y[n * outDim + o] = acc;
    }
  return y;
}

/** Writes given values into a built CSQ layer's p, n, m and scale. */
export function setPlanes(
  layer: CsqLayer,
  values: { p: ArrayLike<number>; n: ArrayLike<number>; m: ArrayLike<number>; scale: number },
): void {
  const k = layer.csqKernel;
  tf.tidy(() => {
    k.p.write(tf.tensor(Array.from(values.p), k.p.shape as number[]));
    k.n.write(tf.tensor(Array.from(values.n), k.n.shape as number[]));
    k.mask.write(tf.tensor(Array.from(values.m), [layer.bits]));
    k.scale.write(tf.tensor([values.scale], [1]));
  });
}
