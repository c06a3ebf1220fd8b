import { useBackend } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { expectRelClose, rand, valuesOn } from '../test/compare.js';
import { isCsqGradient, originalGradient } from './gradients/claim.js';
import {
  isCsqWasmKernel,
  registerWasmTrainingKernels,
  replacedWasmKernel,
  useStockWasmKernels,
  WASM_TRAINING_GRADIENTS,
  WASM_TRAINING_KERNELS,
} from './index.js';
import { outerReduction } from './reduce.js';
import { tileAsBroadcast } from './tile.js';
import { setSimdKernelsEnabled, simdFor } from './wasm/simd.js';

afterAll(() => useBackend('cpu'));

describe('registerWasmTrainingKernels', () => {
  it('has registered every kernel on import, and a second call changes nothing', () => {
    for (const k of WASM_TRAINING_KERNELS)
      expect(isCsqWasmKernel(k.kernelName), k.kernelName).toBe(true);
    const before = WASM_TRAINING_KERNELS.map((k) => tf.getKernel(k.kernelName, 'wasm'));
    expect(registerWasmTrainingKernels()).toEqual([]);
    const after = WASM_TRAINING_KERNELS.map((k) => tf.getKernel(k.kernelName, 'wasm'));
    expect(after).toEqual(before);
  });

  it('fills the kernels wasm lacks and keeps the setup of those it replaces', () => {
    const missing = WASM_TRAINING_KERNELS.filter((k) => k.reason === 'missing').map(
      (k) => k.kernelName,
    );
    expect(missing).toEqual([
      'Conv2DBackpropFilter',
      'DepthwiseConv2dNativeBackpropFilter',
      'DepthwiseConv2dNativeBackpropInput',
    ]);
    // a replaced kernel keeps wasm's setupFunc (several bind their C++ entry point there, and
    // csq's kernels fall back to wasm's own for the cases they do not cover)
    for (const k of WASM_TRAINING_KERNELS.filter((s) => s.reason === 'faster')) {
      const own = replacedWasmKernel(k.kernelName);
      expect(own, k.kernelName).toBeDefined();
      expect(tf.getKernel(k.kernelName, 'wasm').setupFunc, k.kernelName).toBe(own!.setupFunc);
    }
    expect(typeof tf.getKernel('FusedBatchNorm', 'wasm').setupFunc).toBe('function');
  });

  it("claims its fused gradients, which fall back to tfjs-core's off wasm", () => {
    for (const g of WASM_TRAINING_GRADIENTS) {
      expect(isCsqGradient(g.kernelName), g.kernelName).toBe(true);
      expect(originalGradient(g.kernelName), g.kernelName).toBeDefined();
    }
  });

  it("useStockWasmKernels keeps only the missing kernels; registering again restores csq's", async () => {
    await useBackend('wasm');
    const step = () =>
      tf.tidy(() => {
        const x = rand([2, 6, 6, 3], 1);
        const f = (xx: tf.Tensor) => {
          const { mean, variance } = tf.moments(xx, [0, 1, 2]);
          const y = tf.batchNorm(xx, mean, variance, tf.zeros([3]), tf.ones([3]), 1e-3);
          return tf.sum(tf.square(tf.avgPool(y as tf.Tensor4D, 2, 2, 'valid')));
        };
        return tf.grad(f)(x).dataSync();
      });
    const csq = step();
    useStockWasmKernels();
    expect(isCsqWasmKernel('FusedBatchNorm')).toBe(false);
    expect(isCsqWasmKernel('Identity')).toBe(false);
    expect(isCsqWasmKernel('Conv2DBackpropFilter')).toBe(true);
    expect(isCsqGradient('FusedBatchNorm')).toBe(false);
    expect(simdFor(tf.backend())).toBeNull();
    const stock = step();
    expectRelClose(csq, stock, 1e-5);
    const back = registerWasmTrainingKernels();
    expect(back).toContain('FusedBatchNorm');
    expect(back).not.toContain('Conv2DBackpropFilter');
    expect(isCsqGradient('FusedBatchNorm')).toBe(true);
    expect(simdFor(tf.backend())).not.toBeNull();
  });

  it('leaves the other backends alone', () => {
    expect(isCsqWasmKernel('Conv2D')).toBe(false);
    const cpuKernel = tf.getKernel('Conv2DBackpropFilter', 'cpu');
    expect(cpuKernel.backendName).toBe('cpu');
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm').kernelFunc).not.toBe(cpuKernel.kernelFunc);
  });
});

describe('fast Tile', () => {
  it('plans tile as a low-rank broadcast', () => {
    // the batch-norm gradient's tile: [1, 1, 1, C] to the activation shape
    expect(tileAsBroadcast([1, 1, 1, 16], [128, 32, 32, 1])).toEqual({
      xShape: [1, 16],
      zerosShape: [131072, 1],
    });
    expect(tileAsBroadcast([2, 3], [1, 4])).toEqual({ xShape: [2, 1, 3], zerosShape: [1, 4, 1] });
    expect(tileAsBroadcast([2, 3], [5, 1])).toEqual({ xShape: [1, 6], zerosShape: [5, 1] });
    expect(tileAsBroadcast([2, 3, 4], [2, 2, 2])).toBeNull(); // rank 6: wasm's own Tile
  });

  it('matches the cpu backend, float and int, low and high rank', async () => {
    const cases: [number[], number[]][] = [
      [
        [1, 1, 1, 5],
        [3, 4, 2, 1],
      ],
      [
        [2, 3],
        [1, 4],
      ],
      [
        [2, 3],
        [3, 2],
      ],
      [
        [3, 1, 2],
        [2, 5, 1],
      ],
      [
        [2, 3, 4],
        [2, 2, 2],
      ],
      [[4], [3]],
    ];
    const run = () => [
      ...cases.map(([shape, reps]) => tf.tile(rand(shape, 3), reps)),
      tf.tile(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), [2, 3]),
    ];
    const expected = await valuesOn('cpu', run);
    const actual = await valuesOn('wasm', run);
    for (let i = 0; i < expected.length; i++)
      expect(Array.from(actual[i]!)).toEqual(Array.from(expected[i]!));
  });
});

describe('fast transposed matMul', () => {
  it('matches the cpu backend for every transpose combination, plain and fused', async () => {
    const a = () => rand([7, 5], 1);
    const b = () => rand([5, 6], 2);
    const run = () => [
      tf.matMul(a(), b()),
      tf.matMul(tf.transpose(a()), b(), true, false),
      tf.matMul(a(), tf.transpose(b()), false, true),
      tf.matMul(tf.transpose(a()), tf.transpose(b()), true, true),
      tf.matMul(rand([1, 5, 7], 3), rand([1, 6, 5], 4), true, true),
      tf.matMul(rand([3, 7, 5], 5), rand([3, 6, 5], 6), false, true), // batch 3: wasm's own
      tf.fused.matMul({
        a: tf.transpose(a()),
        b: b(),
        transposeA: true,
        bias: rand([6], 7),
        activation: 'relu',
      }),
    ];
    const expected = await valuesOn('cpu', run);
    const actual = await valuesOn('wasm', run);
    for (let i = 0; i < expected.length; i++) expectRelClose(actual[i]!, expected[i]!);
  });
});

describe('fast Sum and Mean over outer axes', () => {
  it('plans only contiguous outer blocks', () => {
    expect(outerReduction([128, 32, 32, 16], [0, 1, 2])).toEqual([1, 131072, 16]);
    expect(outerReduction([4, 5, 6, 7], [1, 2])).toEqual([4, 30, 7]);
    expect(outerReduction([4, 5, 6, 7], [3])).toBeNull(); // innermost: wasm's own
    expect(outerReduction([4, 5, 6, 7], [0, 2])).toBeNull(); // not contiguous
    expect(outerReduction([1, 5, 6], [0])).toBeNull(); // nothing to reduce
  });

  it('matches the cpu backend, keepDims or not, and falls back for the rest', async () => {
    const x = () => rand([3, 5, 4, 6], 9);
    const run = () => [
      tf.sum(x(), [0, 1, 2]),
      tf.mean(x(), [0, 1, 2], true),
      tf.sum(x(), [1, 2], true),
      tf.mean(x(), [2, 1]),
      tf.sum(x(), 0),
      tf.mean(x(), -1),
      tf.sum(x(), [0, 2]),
      tf.sum(x()),
      tf.sum(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32'), 0),
    ];
    const expected = await valuesOn('cpu', run);
    const shapes = await valuesOn('cpu', () => run().map((t) => tf.tensor(t.shape)));
    const actual = await valuesOn('wasm', run);
    const actualShapes = await valuesOn('wasm', () => run().map((t) => tf.tensor(t.shape)));
    expect(actualShapes.map((s) => Array.from(s))).toEqual(shapes.map((s) => Array.from(s)));
    for (let i = 0; i < expected.length; i++) expectRelClose(actual[i]!, expected[i]!);
  });
});

describe('without the SIMD module', () => {
  it('every kernel and gradient takes its composed path and still matches cpu', async () => {
    const step = () => {
      const x = rand([2, 6, 6, 8], 1);
      const w = rand([3, 3, 8, 8], 2);
      const f = (xx: tf.Tensor, ww: tf.Tensor) => {
        const c = tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 2, 'same');
        const { mean, variance } = tf.moments(c, [0, 1, 2]);
        const y = tf.batchNorm(c, mean, variance, tf.zeros([8]), tf.ones([8]), 1e-3);
        return tf.sum(tf.mul(tf.relu(y), rand([2, 3, 3, 8], 3)));
      };
      return tf.grads(f)([x, w]);
    };
    const expected = await valuesOn('cpu', step);
    setSimdKernelsEnabled(false);
    try {
      const actual = await valuesOn('wasm', step);
      expect(isCsqGradient('FusedBatchNorm')).toBe(true);
      expectRelClose(actual[0]!, expected[0]!, 1e-5);
      expectRelClose(actual[1]!, expected[1]!, 1e-5);
    } finally {
      setSimdKernelsEnabled(true);
    }
  });
});
