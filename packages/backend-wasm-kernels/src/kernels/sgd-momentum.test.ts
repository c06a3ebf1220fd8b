import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import '../index.js';
import { useBackend } from '@csq/test-utils';
import { rand, valuesOn } from '../../test/compare.js';
import { registerWasmTrainingKernels, useStockWasmKernels } from '../register.js';

afterAll(() => useBackend('cpu'));

const ATTRS = { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 };

/** Three steps of PyTorch's SGD with momentum, composed from tfjs ops (as @csq/trainer does). */
function composed(shape: number[], seed: number) {
  return () => {
    let v = rand(shape, seed);
    let buf = rand(shape, seed + 1);
    for (let s = 0; s < 3; s++) {
      const g = rand(shape, seed + 2 + s);
      const d = tf.add(g, tf.mul(v, ATTRS.weightDecay));
      buf = tf.add(tf.mul(buf, ATTRS.momentum), d);
      v = tf.sub(v, tf.mul(buf, ATTRS.lr));
    }
    return [v, buf];
  };
}

function fusedSteps(shape: number[], seed: number) {
  return () => {
    let v = rand(shape, seed);
    let buf = rand(shape, seed + 1);
    for (let s = 0; s < 3; s++) {
      const g = rand(shape, seed + 2 + s);
      [v, buf] = tf.engine().runKernel('CsqSgdMomentum', { v, g, buf }, ATTRS) as [
        tf.Tensor,
        tf.Tensor,
      ];
    }
    return [v, buf];
  };
}

describe('CsqSgdMomentum matches the composed momentum step on cpu, bit for bit', () => {
  for (const [i, shape] of [[7], [1000, 8], [3, 3, 64, 64, 8]].entries()) {
    it(`[${shape}]: weights and momentum buffer after three steps`, async () => {
      const expected = await valuesOn('cpu', composed(shape, 10 * i + 1));
      const actual = await valuesOn('wasm', fusedSteps(shape, 10 * i + 1));
      expect(Array.from(actual[0]!)).toEqual(Array.from(expected[0]!));
      expect(Array.from(actual[1]!)).toEqual(Array.from(expected[1]!));
    });
  }

  it('is removed on the stock path and registered again after', async () => {
    await useBackend('wasm');
    useStockWasmKernels();
    expect(tf.getKernel('CsqSgdMomentum', 'wasm')).toBeUndefined();
    registerWasmTrainingKernels();
    expect(tf.getKernel('CsqSgdMomentum', 'wasm')).toBeDefined();
  });
});
