import { bitPlaneWeights, exactWeight, quantizeUniform, sigmoid, softWeight } from '@csq/core';
import { expectClose, finiteDifference, TEST_BACKENDS, uniform, useBackend } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CsqConv2D } from './csq-conv2d.js';
import { CsqDense } from './csq-dense.js';
import { CsqDepthwiseConv2D } from './csq-depthwise-conv2d.js';
import type { CsqLayer } from './csq-layer.js';
import { conv2dRef, denseRef, setPlanes } from './test-reference.js';

const MODES = [
  { mode: 'soft', beta: 2.5, ticket: false, exact: false },
  { mode: 'ticket', beta: 7, ticket: true, exact: false },
  { mode: 'exact', beta: 1, ticket: false, exact: true },
] as const;

type Mode = { beta: number; ticket: boolean; exact: boolean };

function randomPlanes(count: number, bits: number, seed: number) {
  return {
    p: uniform(count * bits, -2, 2, seed),
    n: uniform(count * bits, -2, 2, seed + 1),
    m: Float32Array.from({ length: bits }, (_, i) => (i % 3 === 1 ? -0.6 : 0.3 + 0.1 * i)),
    scale: 0.43,
  };
}

/** The kernel the core reference computes for a mode. */
function refKernel(planes: ReturnType<typeof randomPlanes>, bits: number, m: Mode): Float32Array {
  const args = { ...planes, bits };
  return m.exact ? exactWeight(args) : softWeight({ ...args, beta: m.beta, hardMask: m.ticket });
}

function build(layer: CsqLayer, shape: number[]): void {
  tf.tidy(() => {
    layer.apply(tf.zeros(shape));
  });
}

describe.each(TEST_BACKENDS)('CSQ layer forward on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it.each(MODES)(
    'CsqConv2D ($mode) equals tf.conv2d and a float64 conv with the reference kernel',
    (m) => {
      const bits = 4;
      const layer = new CsqConv2D({
        filters: 3,
        kernelSize: 3,
        padding: 'same',
        bits,
        useBias: false,
      });
      build(layer, [2, 5, 5, 2]);
      const kShape = [3, 3, 2, 3] as [number, number, number, number];
      const planes = randomPlanes(3 * 3 * 2 * 3, bits, 3);
      setPlanes(layer, planes);
      layer.setCsqState({ beta: m.beta, ticket: m.ticket, exact: m.exact });
      const xData = uniform(2 * 5 * 5 * 2, -1, 1, 9);
      const x = tf.tensor4d(xData, [2, 5, 5, 2]);
      const y = layer.apply(x) as tf.Tensor;
      const kernel = refKernel(planes, bits, m);
      expectClose(layer.kernelTensor().dataSync(), kernel, { rtol: 1e-5, atol: 1e-6 });
      const yTf = tf.conv2d(x, tf.tensor4d(kernel, kShape), 1, 'same');
      expect(y.shape).toEqual([2, 5, 5, 3]);
      expectClose(y.dataSync(), yTf.dataSync(), { rtol: 1e-5, atol: 1e-5 });
      const ref = conv2dRef(xData, [2, 5, 5, 2], kernel, kShape, 'same');
      expectClose(y.dataSync(), ref.y, { rtol: 1e-5, atol: 1e-5 });
    },
  );

  it('CsqConv2D with strides, valid padding, dilation and a quantized bias equals tf.conv2d', () => {
    const bits = 3;
    for (const opts of [
      { strides: 2, padding: 'valid' as const, dilationRate: 1 },
      { strides: 1, padding: 'same' as const, dilationRate: 2 },
    ]) {
      const layer = new CsqConv2D({ filters: 2, kernelSize: [3, 2], bits, ...opts });
      build(layer, [1, 7, 6, 3]);
      const planes = randomPlanes(3 * 2 * 3 * 2, bits, 5);
      setPlanes(layer, planes);
      const bias = layer.csqBias!.variables();
      tf.tidy(() => {
        bias[0]!.write(tf.tensor1d([0.3, -0.71]));
        bias[1]!.write(tf.tensor1d([0.5]));
      });
      const x = tf.tensor4d(uniform(7 * 6 * 3, -1, 1, 4), [1, 7, 6, 3]);
      const y = layer.apply(x) as tf.Tensor;
      const kernel = tf.tensor4d(refKernel(planes, bits, { ...MODES[0], beta: 1 }), [3, 2, 3, 2]);
      // bias: scale * round(clip(u) * 7) / 7 (spec 5, N = 3)
      const qb = [0.5 * (Math.round(0.3 * 7) / 7), 0.5 * (-Math.round(0.71 * 7) / 7)];
      layer.setCsqState({ beta: 1, ticket: false, exact: false });
      const y1 = layer.apply(x) as tf.Tensor;
      const yTf = tf.add(
        tf.conv2d(x, kernel, opts.strides, opts.padding, 'NHWC', opts.dilationRate),
        tf.tensor1d(qb),
      );
      expect(y1.shape).toEqual(yTf.shape);
      expect(layer.computeOutputShape([1, 7, 6, 3])).toEqual(yTf.shape);
      expectClose(y1.dataSync(), yTf.dataSync(), { rtol: 1e-5, atol: 1e-5 });
      tf.dispose([x, y, y1, yTf, kernel]);
    }
  });

  it.each(MODES)(
    'CsqDense ($mode) equals tf.matMul with the reference kernel plus the quantized bias',
    (m) => {
      const bits = 5;
      const layer = new CsqDense({ units: 3, bits });
      build(layer, [2, 4]);
      const planes = randomPlanes(4 * 3, bits, 11);
      setPlanes(layer, planes);
      const [u, bs] = layer.csqBias!.variables();
      tf.tidy(() => {
        u!.write(tf.tensor1d([0.2, -1.7, 0.0333]));
        bs!.write(tf.tensor1d([0.8]));
      });
      layer.setCsqState({ beta: m.beta, ticket: m.ticket, exact: m.exact });
      const xData = uniform(8, -1, 1, 12);
      const y = layer.apply(tf.tensor2d(xData, [2, 4])) as tf.Tensor;
      const kernel = refKernel(planes, bits, m);
      // spec 5: u clipped to [-1, 1], rounded to 31 levels, times the bias scale
      const qb = [0.2, -1, 0.0333].map((v) => (0.8 * Math.round(v * 31)) / 31);
      const ref = denseRef(xData, 2, kernel, 4, 3, qb);
      expectClose(y.dataSync(), ref, { rtol: 1e-5, atol: 1e-5 });
      const yTf = tf.add(
        tf.matMul(tf.tensor2d(xData, [2, 4]), tf.tensor2d(kernel, [4, 3])),
        tf.tensor1d(qb),
      );
      expectClose(y.dataSync(), yTf.dataSync(), { rtol: 1e-5, atol: 1e-5 });
    },
  );

  it('CsqDense handles inputs of rank 3 like tf.layers.dense', () => {
    const layer = new CsqDense({ units: 2, bits: 3, useBias: false });
    build(layer, [2, 3, 4]);
    const planes = randomPlanes(8, 3, 21);
    setPlanes(layer, planes);
    const xData = uniform(24, -1, 1, 3);
    const y = layer.apply(tf.tensor3d(xData, [2, 3, 4])) as tf.Tensor;
    expect(y.shape).toEqual([2, 3, 2]);
    const ref = denseRef(xData, 6, refKernel(planes, 3, { ...MODES[0], beta: 1 }), 4, 2);
    expectClose(y.dataSync(), ref, { rtol: 1e-5, atol: 1e-5 });
    expect(layer.macs()).toBe(3 * 4 * 2);
  });

  it.each(MODES)(
    'CsqDepthwiseConv2D ($mode) equals tf.depthwiseConv2d with the reference kernel',
    (m) => {
      const bits = 4;
      const layer = new CsqDepthwiseConv2D({
        kernelSize: 3,
        depthMultiplier: 2,
        padding: 'same',
        bits,
        useBias: false,
      });
      build(layer, [1, 6, 6, 3]);
      const planes = randomPlanes(3 * 3 * 3 * 2, bits, 31);
      setPlanes(layer, planes);
      layer.setCsqState({ beta: m.beta, ticket: m.ticket, exact: m.exact });
      const x = tf.tensor4d(uniform(6 * 6 * 3, -1, 1, 32), [1, 6, 6, 3]);
      const y = layer.apply(x) as tf.Tensor;
      const yTf = tf.depthwiseConv2d(
        x,
        tf.tensor4d(refKernel(planes, bits, m), [3, 3, 3, 2]),
        1,
        'same',
      );
      expect(y.shape).toEqual([1, 6, 6, 6]);
      expectClose(y.dataSync(), yTf.dataSync(), { rtol: 1e-5, atol: 1e-5 });
      expect(layer.macs()).toBe(6 * 6 * 3 * 2 * 9);
      expect(layer.paramCount()).toBe(54);
    },
  );
});

describe('CSQ layer initialisation and bookkeeping', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('the same seed gives the same planes; another seed gives others; planes come from the float init', () => {
    const make = (seed: number) => {
      const l = new CsqConv2D({
        filters: 4,
        kernelSize: 3,
        bits: 6,
        seed,
        kernelInitializer: 'heNormal',
      });
      build(l, [1, 8, 8, 2]);
      return l;
    };
    const a = make(7);
    const b = make(7);
    const c = make(8);
    expect(Array.from(a.csqKernel.p.read().dataSync())).toEqual(
      Array.from(b.csqKernel.p.read().dataSync()),
    );
    expect(Array.from(a.csqKernel.n.read().dataSync())).toEqual(
      Array.from(b.csqKernel.n.read().dataSync()),
    );
    expect(Array.from(a.csqKernel.p.read().dataSync())).not.toEqual(
      Array.from(c.csqKernel.p.read().dataSync()),
    );
    // scratch init (spec 1): digits 0/1, m = s0 = 0, s = max|w| of the seeded heNormal draw
    const w = tf.initializers.heNormal({ seed: 7 }).apply([3, 3, 2, 4]).dataSync();
    expectClose(
      a.csqKernel.scale.read().dataSync()[0]!,
      Math.max(...Array.from(w, Math.abs)),
      1e-7,
    );
    expect(new Set(a.csqKernel.p.read().dataSync())).toEqual(new Set([0, 1]));
    expect(Array.from(a.maskVariable.read().dataSync())).toEqual([0, 0, 0, 0, 0, 0]);
    // the exact digits encode the 6-bit quantisation of w
    a.csqKernel.mask.write(tf.ones([6]));
    a.setCsqState({ beta: 1, ticket: false, exact: true });
    expectClose(a.kernelTensor().dataSync(), quantizeUniform(w, 6), { rtol: 1e-6, atol: 1e-7 });
  });

  it("init 'convert' makes the exact kernel the N-bit quantisation of the float kernel and the soft one close", () => {
    const w = uniform(3 * 3 * 2 * 2, -0.5, 0.5, 41);
    const l = new CsqConv2D({
      filters: 2,
      kernelSize: 3,
      bits: 8,
      init: 'convert',
      useBias: false,
    });
    build(l, [1, 4, 4, 2]);
    l.setFloatWeights(w);
    expect(Array.from(l.maskVariable.read().dataSync())).toEqual(new Array(8).fill(6));
    l.setCsqState({ beta: 1, ticket: false, exact: true });
    const q = quantizeUniform(w, 8);
    expectClose(l.kernelTensor().dataSync(), q, { rtol: 1e-6, atol: 1e-7 });
    expect(l.selectedBits()).toBe(8);
    // soft at beta 1 is sigma(6)(sigma(6) - sigma(-6)) of it; at beta 4 within 1e-9 relative
    l.setCsqState({ beta: 1, ticket: false, exact: false });
    const shrink = sigmoid(6) * (sigmoid(6) - sigmoid(-6));
    expectClose(
      l.kernelTensor().dataSync(),
      Array.from(q, (v) => v * shrink),
      { rtol: 1e-5, atol: 1e-7 },
    );
    l.setCsqState({ beta: 4, ticket: false, exact: false });
    expectClose(l.kernelTensor().dataSync(), q, { rtol: 1e-5, atol: 1e-7 });
    const ek = l.exactKernel();
    expect(ek.kernelShape).toEqual([3, 3, 2, 2]);
    expect(ek.positions).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expectClose(
      Array.from(ek.codes, (c) => (c * ek.scale) / 255),
      q,
      { rtol: 1e-6, atol: 1e-7 },
    );
  });

  it('reports params, MACs, bits, variables, and refuses bad options with CsqError', () => {
    const l = new CsqConv2D({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', bits: 4 });
    expect(() => l.maskVariable).toThrow(/build it first/);
    build(l, [1, 9, 9, 3]);
    expect(l.paramCount()).toBe(3 * 3 * 3 * 8);
    expect(l.macs()).toBe(5 * 5 * 8 * 9 * 3);
    expect(l.maskVariable.shape).toEqual([4]);
    expect(l.csqKernel.p.shape).toEqual([3, 3, 3, 8, 4]);
    expect(l.nonMaskVariables().map((v) => v.originalName.split('/').pop())).toEqual([
      'kernel_p',
      'kernel_n',
      'kernel_scale',
      'bias',
      'bias_scale',
    ]);
    expect(l.selectedBits('continuous')).toBe(4); // m = 0 counts as selected while training
    expect(l.selectedBits('exact')).toBe(0); // H(0) = 0
    expect(() => new CsqConv2D({ filters: 2, kernelSize: 3, bits: 0 })).toThrow(
      /bits must be an integer/,
    );
    expect(() => new CsqConv2D({ filters: 2, kernelSize: 3, init: 'magic' as 'scratch' })).toThrow(
      /init must be "scratch"/,
    );
    expect(() => new CsqConv2D({ filters: 2, kernelSize: 3, padding: 'causal' as 'same' })).toThrow(
      /padding/,
    );
    expect(() => new CsqDense({ units: 2, kernelInitializer: 'nope' })).toThrow(
      /unknown initializer/,
    );
    expect(() => l.setCsqState({ beta: 0 })).toThrow(/beta/);
  });
});

/** Float64 soft kernel of spec 1 (independent of core), for finite differences. */
function softKernel64(
  p: ArrayLike<number>,
  n: ArrayLike<number>,
  m: ArrayLike<number>,
  s: number,
  beta: number,
  bits: number,
) {
  const e = bitPlaneWeights(bits);
  const count = p.length / bits;
  const w = new Float64Array(count);
  for (let k = 0; k < count; k++) {
    let acc = 0;
    for (let i = 0; i < bits; i++) {
      acc +=
        e[i]! *
        sigmoid(beta * m[i]!) *
        (sigmoid(beta * p[k * bits + i]!) - sigmoid(beta * n[k * bits + i]!));
    }
    w[k] = s * acc;
  }
  return w;
}

describe('CSQ layer gradients (cpu)', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('reach p, n, m and scale of a conv layer and match finite differences', () => {
    const bits = 3;
    const beta = 1.7;
    const kShape = [2, 2, 2, 2] as [number, number, number, number];
    const layer = new CsqConv2D({ filters: 2, kernelSize: 2, bits, useBias: false });
    build(layer, [1, 3, 3, 2]);
    const planes = randomPlanes(16, bits, 51);
    setPlanes(layer, planes);
    layer.setCsqState({ beta, ticket: false, exact: false });
    const xData = uniform(18, -1, 1, 52);
    const g = uniform(8, -1, 1, 53); // loss = sum(G * y)
    const x = tf.tensor4d(xData, [1, 3, 3, 2]);
    const k = layer.csqKernel;
    const vars = [k.p, k.n, k.mask, k.scale].map((v) => v.read() as tf.Variable);
    const { grads } = tf.variableGrads(
      () => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, tf.tensor4d(g, [1, 2, 2, 2]))) as tf.Scalar,
      vars,
    );
    const loss = (p: ArrayLike<number>, n: ArrayLike<number>, m: ArrayLike<number>, s: number) => {
      const w = softKernel64(p, n, m, s, beta, bits);
      const { y } = conv2dRef(xData, [1, 3, 3, 2], w, kShape, 'valid');
      return y.reduce((a, v, i) => a + v * g[i]!, 0);
    };
    const fd = {
      p: finiteDifference((v) => loss(v, planes.n, planes.m, planes.scale), planes.p),
      n: finiteDifference((v) => loss(planes.p, v, planes.m, planes.scale), planes.n),
      m: finiteDifference((v) => loss(planes.p, planes.n, v, planes.scale), planes.m),
      s: finiteDifference((v) => loss(planes.p, planes.n, planes.m, v[0]!), [planes.scale]),
    };
    const got = vars.map((v) => grads[v.name]!.dataSync());
    expectClose(got[0]!, fd.p, { rtol: 2e-3, atol: 2e-5 });
    expectClose(got[1]!, fd.n, { rtol: 2e-3, atol: 2e-5 });
    expectClose(got[2]!, fd.m, { rtol: 2e-3, atol: 2e-5 });
    expectClose(got[3]!, fd.s, { rtol: 2e-3, atol: 2e-5 });
    for (const gr of got) expect(gr.some((v) => Math.abs(v) > 1e-4)).toBe(true);
  });

  it('reach a dense layer; the bias gets the straight-through gradient of spec 5', () => {
    const bits = 4;
    const beta = 0.9;
    const layer = new CsqDense({ units: 2, bits });
    build(layer, [3, 3]);
    const planes = randomPlanes(6, bits, 61);
    setPlanes(layer, planes);
    const [u, bs] = layer.csqBias!.variables();
    tf.tidy(() => {
      u!.write(tf.tensor1d([0.37, -0.52]));
      bs!.write(tf.tensor1d([0.6]));
    });
    layer.setCsqState({ beta, ticket: false, exact: false });
    const xData = uniform(9, -1, 1, 62);
    const g = uniform(6, -1, 1, 63);
    const vars = [layer.csqKernel.mask, ...layer.nonMaskVariables()];
    const x = tf.tensor2d(xData, [3, 3]);
    const { grads } = tf.variableGrads(
      () => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, tf.tensor2d(g, [3, 2]))) as tf.Scalar,
      vars.map((v) => v.read() as tf.Variable),
    );
    const loss = (m: ArrayLike<number>, s: number) =>
      denseRef(xData, 3, softKernel64(planes.p, planes.n, m, s, beta, bits), 3, 2).reduce(
        (a, v, i) => a + v * g[i]!,
        0,
      );
    expectClose(
      grads[(vars[0]!.read() as tf.Variable).name]!.dataSync(),
      finiteDifference((v) => loss(v, planes.scale), planes.m),
      {
        rtol: 2e-3,
        atol: 2e-5,
      },
    );
    // d/du = scale * sum_batch G (identity through the rounding); d/dscale = sum G * q(u)
    const colSum = [0, 1].map((o) => g[o]! + g[2 + o]! + g[4 + o]!);
    expectClose(
      grads[(u!.read() as tf.Variable).name]!.dataSync(),
      colSum.map((c) => 0.6 * c),
      1e-5,
    );
    const q = [Math.round(0.37 * 15) / 15, -Math.round(0.52 * 15) / 15];
    expectClose(
      grads[(bs!.read() as tf.Variable).name]!.dataSync(),
      [colSum[0]! * q[0]! + colSum[1]! * q[1]!],
      1e-5,
    );
  });

  it('in the ticket phase the mask is frozen (no gradient, not trainable) and the planes still learn', () => {
    const layer = new CsqConv2D({ filters: 2, kernelSize: 2, bits: 3, useBias: false });
    build(layer, [1, 3, 3, 2]);
    setPlanes(layer, randomPlanes(16, 3, 71));
    layer.setCsqState({ beta: 3, ticket: true, exact: false });
    expect(layer.maskVariable.trainable).toBe(false);
    expect(layer.trainableWeights.map((w) => w.originalName.split('/').pop())).not.toContain(
      'kernel_mask',
    );
    const k = layer.csqKernel;
    const x = tf.ones([1, 3, 3, 2]);
    const vars = [k.p, k.mask].map((v) => v.read() as tf.Variable);
    const { grads } = tf.variableGrads(
      () => tf.sum(layer.apply(x) as tf.Tensor) as tf.Scalar,
      vars,
    );
    expect(grads[(k.mask.read() as tf.Variable).name] ?? null).toBeNull();
    expect(grads[(k.p.read() as tf.Variable).name]!.dataSync().some((v) => v !== 0)).toBe(true);
    layer.setCsqState({ ticket: false });
    expect(layer.maskVariable.trainable).toBe(true);
  });
});
