import { expectClose, useBackend } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CsqController, findCsqLayers } from './controller.js';
import { CsqConv2D } from './csq-conv2d.js';
import { CsqDense } from './csq-dense.js';
import { isCsqLayer } from './types.js';

function smallModel() {
  const inner = tf.sequential({
    name: 'inner',
    layers: [new CsqDense({ units: 3, bits: 4, name: 'inner_dense', inputShape: [8], seed: 3 })],
  });
  const input = tf.input({ shape: [6, 6, 1] });
  let x = new CsqConv2D({ filters: 2, kernelSize: 3, bits: 5, name: 'c1', seed: 1 }).apply(
    input,
  ) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: 8, name: 'float_dense' }).apply(x) as tf.SymbolicTensor;
  const out = inner.apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

describe('CsqController', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('finds CSQ layers in nested models and drives beta, ticket and exact on all of them', () => {
    const model = smallModel();
    const ctl = new CsqController(model);
    expect(ctl.layers.map((l) => l.name)).toEqual(['c1', 'inner_dense']);
    expect(findCsqLayers(model)).toHaveLength(2);
    expect(isCsqLayer(model.getLayer('c1'))).toBe(true);
    expect(isCsqLayer(model.getLayer('float_dense'))).toBe(false);
    expect(ctl.beta).toBe(1);
    ctl.setBeta(12.5);
    expect(ctl.layers.map((l) => (l as CsqConv2D).csqState.beta)).toEqual([12.5, 12.5]);
    // a second controller of the same model reads the same state
    expect(new CsqController(model).beta).toBe(12.5);
    expect(() => ctl.setBeta(-1)).toThrow(/beta/);
    ctl.setTicket(true);
    expect(ctl.ticket).toBe(true);
    expect(ctl.maskVariables().every((m) => !m.trainable)).toBe(true);
    expect(model.trainableWeights.some((w) => w.originalName.endsWith('kernel_mask'))).toBe(false);
    ctl.setTicket(false);
    expect(ctl.maskVariables().every((m) => m.trainable)).toBe(true);
    ctl.setExact(true);
    expect(ctl.exact).toBe(true);
  });

  it('exact mode computes the Heaviside model; layerBits and resetMasks follow spec 2', () => {
    const model = smallModel();
    const ctl = new CsqController(model);
    const c1 = model.getLayer('c1') as CsqConv2D;
    c1.maskVariable.write(tf.tensor1d([2, -0.5, 0, 0.25, -3]));
    expect(ctl.layerBits()).toEqual({ c1: 3, inner_dense: 4 }); // m >= 0 while searching
    expect(ctl.layerBits('exact')).toEqual({ c1: 2, inner_dense: 0 }); // H(m): m > 0
    ctl.setExact(true);
    expect(ctl.layerBits()).toEqual({ c1: 2, inner_dense: 0 });
    // with every inner mask at 0, H(0) = 0: the exact dense outputs only its bias (0 at init)
    const y = model.predict(tf.ones([2, 6, 6, 1])) as tf.Tensor;
    expectClose(y.dataSync(), new Array(6).fill(0), 0);
    ctl.setExact(false);
    ctl.setBeta(50);
    ctl.resetMasks(50, 0);
    expectClose(c1.maskVariable.read().dataSync(), [0, -25, 0, 0, -150], 1e-6);
    expect(ctl.beta).toBe(1);
  });

  it('leaks no tensors across forward passes, training steps and state changes', () => {
    const model = smallModel();
    const ctl = new CsqController(model);
    const opt = tf.train.sgd(0.01);
    const x = tf.ones([2, 6, 6, 1]);
    const step = (i: number) => {
      ctl.setBeta(1 + i);
      ctl.setTicket(i % 2 === 1);
      opt
        .minimize(() => tf.sum(model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true)
        ?.dispose();
      ctl.setExact(true);
      tf.dispose(model.predict(x) as tf.Tensor);
      ctl.setExact(false);
      ctl.layerBits();
      ctl.resetMasks(2);
    };
    step(0);
    step(1);
    const before = tf.memory().numTensors;
    for (let i = 2; i < 6; i++) step(i);
    expect(tf.memory().numTensors).toBe(before);
  });
});
