import { rng } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import './index.js';
import { expectRelClose, rand, valuesOn } from '../test/compare.js';
import { simdFor } from './wasm/simd.js';

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | number | [[0, 0], [number, number], [number, number], [0, 0]];

interface ConvCase {
  x: Shape4;
  filter: Shape4;
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: 'NHWC' | 'NCHW';
}

// strides 1/2/3 and anisotropic, same/valid/explicit/numeric padding, odd and even kernels,
// odd sizes, 1x1 stride-2 shortcuts, batch > 1, NCHW
const CONV_CASES: ConvCase[] = [
  { x: [2, 7, 9, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'same' },
  { x: [2, 7, 9, 3], filter: [3, 3, 3, 4], strides: 2, pad: 'same' },
  { x: [3, 8, 8, 3], filter: [3, 3, 3, 5], strides: 2, pad: 'valid' },
  { x: [2, 9, 8, 5], filter: [1, 1, 5, 6], strides: 2, pad: 'same' },
  { x: [2, 9, 8, 5], filter: [1, 1, 5, 6], strides: 2, pad: 'valid' },
  { x: [1, 10, 11, 2], filter: [5, 3, 2, 3], strides: 3, pad: 'valid' },
  { x: [2, 11, 10, 3], filter: [4, 4, 3, 2], strides: [2, 3], pad: 'same' },
  {
    x: [1, 6, 7, 2],
    filter: [3, 3, 2, 3],
    strides: 1,
    pad: [
      [0, 0],
      [2, 1],
      [0, 2],
      [0, 0],
    ],
  },
  { x: [2, 7, 7, 3], filter: [3, 3, 3, 2], strides: 2, pad: 1 },
  { x: [2, 3, 7, 9], filter: [3, 3, 3, 4], strides: 2, pad: 'same', dataFormat: 'NCHW' },
];

function outShape(c: ConvCase, depthwise = false): Shape4 {
  const format = c.dataFormat === 'NCHW' ? 'channelsFirst' : 'channelsLast';
  const info = tf.backend_util.computeConv2DInfo(
    c.x,
    c.filter,
    c.strides,
    1,
    c.pad,
    undefined,
    depthwise,
    format,
  );
  return info.outShape;
}

function label(c: ConvCase & { dilations?: number }): string {
  return `x [${c.x}] filter [${c.filter}] strides ${c.strides} pad ${JSON.stringify(c.pad)} ${c.dataFormat ?? 'NHWC'}${c.dilations ? ` dilations ${c.dilations}` : ''}`;
}

describe('wasm Conv2DBackpropFilter and Conv2DBackpropInput match the cpu backend', () => {
  for (const c of CONV_CASES) {
    it(label(c), async () => {
      const dyShape = outShape(c);
      const run = () => {
        const x = rand(c.x, 1);
        const w = rand(c.filter, 2);
        const dy = rand(dyShape, 3);
        const attrs = { strides: c.strides, pad: c.pad, dataFormat: c.dataFormat ?? 'NHWC' };
        const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
          ...attrs,
          filterShape: c.filter,
        } as unknown as tf.NamedAttrMap) as tf.Tensor;
        const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, {
          ...attrs,
          inputShape: c.x,
        } as unknown as tf.NamedAttrMap) as tf.Tensor;
        return [dw, dx];
      };
      const expected = await valuesOn('cpu', run);
      const actual = await valuesOn('wasm', run);
      expectRelClose(actual[0]!, expected[0]!);
      expectRelClose(actual[1]!, expected[1]!);
    });
  }

  it('tf.conv2dTranspose (the op over Conv2DBackpropInput) agrees, strides 1 and 2', async () => {
    const run = () => [
      tf.conv2dTranspose(
        rand([2, 5, 6, 4], 1) as tf.Tensor4D,
        rand([3, 3, 3, 4], 2) as tf.Tensor4D,
        [2, 9, 11, 3],
        2,
        'same',
      ),
      tf.conv2dTranspose(
        rand([1, 4, 4, 2], 3) as tf.Tensor4D,
        rand([2, 2, 5, 2], 4) as tf.Tensor4D,
        [1, 5, 5, 5],
        1,
        'valid',
      ),
    ];
    const expected = await valuesOn('cpu', run);
    const actual = await valuesOn('wasm', run);
    expectRelClose(actual[0]!, expected[0]!);
    expectRelClose(actual[1]!, expected[1]!);
  });
});

interface DepthwiseCase extends ConvCase {
  dilations: number;
}

const DEPTHWISE_CASES: DepthwiseCase[] = [
  { x: [2, 7, 9, 3], filter: [3, 3, 3, 1], strides: 1, pad: 'same', dilations: 1 },
  { x: [2, 7, 9, 3], filter: [3, 3, 3, 2], strides: 2, pad: 'same', dilations: 1 },
  { x: [2, 8, 8, 3], filter: [3, 3, 3, 1], strides: 2, pad: 'valid', dilations: 1 },
  { x: [1, 10, 11, 2], filter: [5, 3, 2, 3], strides: 3, pad: 'valid', dilations: 1 },
  {
    x: [3, 6, 5, 4],
    filter: [3, 3, 4, 1],
    strides: 1,
    pad: [
      [0, 0],
      [1, 2],
      [2, 0],
      [0, 0],
    ],
    dilations: 1,
  },
  { x: [2, 9, 9, 2], filter: [3, 3, 2, 2], strides: 1, pad: 'same', dilations: 2 },
  { x: [2, 12, 10, 2], filter: [3, 2, 2, 1], strides: 1, pad: 'valid', dilations: 3 },
];

/** The filter with d - 1 zeros between taps: a dilated convolution as a plain one. */
function upsample(w: tf.Tensor, d: number): tf.Tensor {
  const [kh, kw, c, m] = w.shape as Shape4;
  const src = w.bufferSync();
  const out = tf.buffer([(kh - 1) * d + 1, (kw - 1) * d + 1, c, m]);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let a = 0; a < c; a++)
        for (let b = 0; b < m; b++) out.set(src.get(i, j, a, b), i * d, j * d, a, b);
  return out.toTensor();
}

describe('wasm depthwise backprop kernels match an independent reference', () => {
  for (const c of DEPTHWISE_CASES) {
    it(label(c), async () => {
      const info = tf.backend_util.computeConv2DInfo(
        c.x,
        c.filter,
        c.strides,
        c.dilations,
        c.pad,
        undefined,
        true,
      );
      const dyShape = info.outShape;
      const attrs = { strides: c.strides, pad: c.pad, dilations: c.dilations };
      const kernels = () => {
        const x = rand(c.x, 1);
        const w = rand(c.filter, 2);
        const dy = rand(dyShape, 3);
        const dw = tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, {
          ...attrs,
          filterShape: c.filter,
        } as unknown as tf.NamedAttrMap) as tf.Tensor;
        const dx = tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: w }, {
          ...attrs,
          inputShape: c.x,
        } as unknown as tf.NamedAttrMap) as tf.Tensor;
        return [dw, dx];
      };
      // Reference: gradients of sum(dy * depthwiseConv2d(x, w)) on cpu. A dilated filter is
      // written out densely (zeros between taps), because the cpu backend's dilated depthwise
      // backprop kernels ignore the dilation.
      const reference = () => {
        const x = rand(c.x, 1);
        const w = rand(c.filter, 2);
        const dy = rand(dyShape, 3);
        const dense = upsample(w, c.dilations);
        const f = (xx: tf.Tensor, ww: tf.Tensor) =>
          tf.sum(
            tf.mul(
              tf.depthwiseConv2d(
                xx as tf.Tensor4D,
                ww as tf.Tensor4D,
                c.strides as never,
                c.pad as never,
              ),
              dy,
            ),
          );
        const [gx, gw] = tf.grads(f)([x, dense]) as [tf.Tensor, tf.Tensor];
        const d = c.dilations;
        const gwTaps = tf.stridedSlice(gw, [0, 0, 0, 0], gw.shape, [d, d, 1, 1]);
        return [gwTaps, gx];
      };
      const expected = await valuesOn('cpu', reference);
      const actual = await valuesOn('wasm', kernels);
      expectRelClose(actual[0]!, expected[0]!);
      expectRelClose(actual[1]!, expected[1]!);
      if (c.dilations === 1) {
        // and the cpu backend's own kernels agree where they support the case
        const cpu = await valuesOn('cpu', kernels);
        expectRelClose(actual[0]!, cpu[0]!);
        expectRelClose(actual[1]!, cpu[1]!);
      }
    });
  }
});

/** Seeded random integers in [lo, hi]. */
function randInts(seed: number): (lo: number, hi: number) => number {
  const u = rng(seed);
  return (lo, hi) => lo + Math.floor(u() * (hi - lo + 1));
}

// Random shapes for csq's SIMD filter gradient (output channels a multiple of 8; 1 to 9 input
// channels, so the 4-channel tile, its remainder and the 1-channel case all run) and for the
// sub-pixel input gradient (strides 2 and 3, anisotropic), with every padding kind.
const RANDOM_CASES: ConvCase[] = Array.from({ length: 14 }, (_, i) => {
  const r = randInts(100 + i);
  const kh = r(1, 4);
  const kw = r(1, 4);
  const strides: [number, number] = i < 4 ? [1, 1] : [r(1, 3), r(2, 3)];
  const pads: Pad[] = [
    'same',
    'valid',
    r(0, 2),
    [
      [0, 0],
      [r(0, 2), r(0, 2)],
      [r(0, 2), r(0, 2)],
      [0, 0],
    ],
  ];
  const x: Shape4 = [r(1, 3), kh + r(0, 8), kw + r(0, 8), i === 5 ? 1 : r(1, 9)];
  return { x, filter: [kh, kw, x[3], 8 * r(1, 3)], strides, pad: pads[i % 4]! };
});

describe('csq SIMD Conv2DBackpropFilter and sub-pixel Conv2DBackpropInput match the cpu backend', () => {
  for (const c of RANDOM_CASES) {
    it(label(c), async () => {
      const dyShape = outShape(c);
      const run = () => {
        const x = rand(c.x, 11);
        const w = rand(c.filter, 12);
        const dy = rand(dyShape, 13);
        const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC' };
        const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
          ...attrs,
          filterShape: c.filter,
        } as unknown as tf.NamedAttrMap) as tf.Tensor;
        const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, {
          ...attrs,
          inputShape: c.x,
        } as unknown as tf.NamedAttrMap) as tf.Tensor;
        return [dw, dx];
      };
      const expected = await valuesOn('cpu', run);
      const actual = await valuesOn('wasm', run);
      expect(simdFor(tf.backend())).not.toBeNull();
      expectRelClose(actual[0]!, expected[0]!, 1e-5);
      expectRelClose(actual[1]!, expected[1]!, 1e-5);
    });
  }
});
