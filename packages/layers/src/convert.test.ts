import { quantizeUniform } from '@csq/core';
import { expectClose, TEST_BACKENDS, useBackend } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { mnistCnn } from './builders.js';
import { CsqController } from './controller.js';
import { CONVERT_INIT_LOGIT, CONVERT_MASK_LOGIT, quantizeModel } from './convert.js';
import type { CsqLayer } from './csq-layer.js';
import { isCsqLayer } from './types.js';

/** Replaces the float kernels (and biases) of `names` by their N-bit quantisation (spec 1). */
function quantizeFloatInPlace(model: tf.LayersModel, bitsOf: (name: string) => number | undefined) {
  const visit = (layers: tf.layers.Layer[]) => {
    for (const l of layers) {
      const inner = (l as unknown as { layers?: tf.layers.Layer[] }).layers;
      if (inner) visit(inner);
      const bits = bitsOf(l.name);
      if (bits === undefined) continue;
      l.setWeights(
        l.getWeights().map((w) => tf.tensor(quantizeUniform(w.dataSync(), bits), w.shape)),
      );
    }
  };
  visit(model.layers);
}

function residualModel() {
  const input = tf.input({ shape: [6, 6, 2] });
  const a = tf.layers
    .conv2d({ name: 'c1', filters: 3, kernelSize: 3, padding: 'same', activation: 'relu' })
    .apply(input);
  const b = tf.layers.conv2d({ name: 'c2', filters: 3, kernelSize: 3, padding: 'same' }).apply(a);
  const d = tf.layers
    .depthwiseConv2d({
      name: 'dw',
      kernelSize: 3,
      padding: 'same',
      biasInitializer: 'randomNormal',
    })
    .apply(b);
  const sum = tf.layers.add({ name: 'res' }).apply([a, d] as tf.SymbolicTensor[]);
  const flat = tf.layers.flatten({ name: 'flat' }).apply(sum);
  const inner = tf.sequential({
    name: 'head',
    layers: [
      tf.layers.dense({
        name: 'inner',
        units: 5,
        inputShape: [108],
        activation: 'tanh',
        biasInitializer: 'ones',
      }),
    ],
  });
  const h = inner.apply(flat);
  const out = tf.layers
    .dense({ name: 'out', units: 4, activation: 'softmax', biasInitializer: 'randomUniform' })
    .apply(h);
  return tf.model({ inputs: input, outputs: out as tf.SymbolicTensor });
}

describe.each(TEST_BACKENDS)('quantizeModel on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it('converts a functional model with a residual add and a nested model; exact = quantized float', () => {
    const float = residualModel();
    const x = tf.randomNormal([3, 6, 6, 2], 0, 1, 'float32', 4);
    const yFloat = (float.predict(x) as tf.Tensor).dataSync();
    const bitsOf: Record<string, number> = { c1: 8, c2: 4, dw: 4, inner: 4, out: 6 };
    const q = quantizeModel(float, {
      bits: 4,
      overrides: { c1: 8, out: { bits: 6, counted: false } },
    });
    expect(q.layers.map((l) => l.getClassName())).toEqual([
      'InputLayer',
      'CsqConv2D',
      'CsqConv2D',
      'CsqDepthwiseConv2D',
      'Add',
      'Flatten',
      'Sequential',
      'CsqDense',
    ]);
    const ctl = new CsqController(q);
    expect(ctl.layers.map((l) => [l.name, l.bits, l.counted])).toEqual([
      ['c1', 8, true],
      ['c2', 4, true],
      ['dw', 4, true],
      ['inner', 4, true],
      ['out', 6, false],
    ]);
    // the float model is untouched
    expectClose((float.predict(x) as tf.Tensor).dataSync(), yFloat, 0);
    // exact mode computes the float network with N-bit kernels and biases
    ctl.setExact(true);
    const yExact = (q.predict(x) as tf.Tensor).dataSync();
    quantizeFloatInPlace(float, (n) => bitsOf[n]);
    const yRef = (float.predict(x) as tf.Tensor).dataSync();
    expectClose(yExact, yRef, { rtol: 1e-4, atol: 1e-5 });
    // include / exclude
    const only = quantizeModel(residualModel(), { include: ['c2', 'inner'], exclude: ['inner'] });
    expect(new CsqController(only).layers.map((l) => l.name)).toEqual(['c2']);
    const noDense = quantizeModel(residualModel(), {
      exclude: (l) => l.getClassName() === 'Dense',
    });
    expect(new CsqController(noDense).layers.map((l) => l.name)).toEqual(['c1', 'c2', 'dw']);
    expect(() => quantizeModel(residualModel(), { overrides: { conv9: 8 } })).toThrow(
      /does not have/,
    );
    expect(() => quantizeModel(residualModel(), { include: [] })).toThrow(/no Conv2D/);
  });

  it('mnistCnn float -> quantizeModel at N = 8 stays within quantization error of the float model', () => {
    const float = mnistCnn({ quantized: false, seed: 3 });
    // move BN statistics and the dense bias away from their init, as training would
    let seed = 10;
    for (const l of float.layers) {
      if (l.getClassName() === 'BatchNormalization' || l.name === 'dense') {
        l.setWeights(
          l.getWeights().map((w, i) =>
            l.name === 'dense' && i === 0
              ? w
              : // gamma and moving variance in [0.5, 1.5], beta and moving mean in [-0.2, 0.2]
                i === 0 || i === 3
                ? tf.randomUniform(w.shape, 0.5, 1.5, 'float32', seed++)
                : tf.randomUniform(w.shape, -0.2, 0.2, 'float32', seed++),
          ),
        );
      }
    }
    const x = tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 7);
    const yFloat = (float.predict(x) as tf.Tensor).dataSync();
    const q = quantizeModel(float, { bits: 8 });
    expect(q.layers.filter(isCsqLayer)).toHaveLength(4);
    const ctl = new CsqController(q);
    ctl.setExact(true);
    const yExact = (q.predict(x) as tf.Tensor).dataSync();
    const scale = Math.max(...Array.from(yFloat, Math.abs));
    // 8-bit kernels: outputs within 2% of the output range of the float model
    expectClose(yExact, yFloat, { rtol: 0, atol: 0.02 * scale });
    expect(Array.from(yExact).some((v, i) => v !== yFloat[i])).toBe(true);
    // the soft model approaches the exact one as beta grows (planes +-0.5, masks at 1): at beta
    // 40 every sigmoid is within 2e-9 of its step
    ctl.setExact(false);
    ctl.setBeta(40);
    expectClose((q.predict(x) as tf.Tensor).dataSync(), yExact, { rtol: 1e-4, atol: 1e-4 * scale });
    // at beta 1 the digits are soft (sigma(0.5) - sigma(-0.5) = 0.24): trainable, far from exact
    ctl.setBeta(1);
    const yBeta1 = (q.predict(x) as tf.Tensor).dataSync();
    expect(Math.max(...Array.from(yBeta1, (v, i) => Math.abs(v - yExact[i]!)))).toBeGreaterThan(
      0.05 * scale,
    );
    // a converted model has every bit selected, at the moderate mask logit the budget can move
    expect(Object.values(ctl.layerBits('exact'))).toEqual([8, 8, 8, 8]);
    const conv1 = q.getLayer('conv1') as CsqLayer;
    expect(conv1.init).toBe('convert');
    expect(Array.from(conv1.maskVariable.read().dataSync())).toEqual(
      new Array(8).fill(CONVERT_MASK_LOGIT),
    );
    const planes = conv1
      .getWeights()
      .find((w) => w.shape.length === 5)!
      .dataSync();
    expect(new Set(Array.from(planes, Math.abs))).toEqual(new Set([CONVERT_INIT_LOGIT]));
    // initLogit and maskLogit 6: the soft model at beta 1 is already the float one (and both
    // the digits and the budget's search are frozen)
    const q6 = quantizeModel(float, { bits: 8, initLogit: 6, maskLogit: 6 });
    const ctl6 = new CsqController(q6);
    ctl6.setBeta(1);
    expectClose((q6.predict(x) as tf.Tensor).dataSync(), yFloat, { rtol: 0, atol: 0.05 * scale });
    ctl6.setBeta(4);
    expectClose((q6.predict(x) as tf.Tensor).dataSync(), yExact, {
      rtol: 1e-4,
      atol: 1e-4 * scale,
    });
  });

  it('per-layer bounds: stored on the layers, maxBits starts with the top positions only', () => {
    const float = mnistCnn({ quantized: false, seed: 4 });
    const q = quantizeModel(float, {
      bits: 8,
      minBits: 2,
      overrides: { conv1: { maxBits: 3 }, dense: { minBits: 8 } },
    });
    const layer = (n: string) => q.getLayer(n) as CsqLayer;
    expect([layer('conv1').minBits, layer('conv1').maxBits]).toEqual([2, 3]);
    expect([layer('conv2').minBits, layer('conv2').maxBits]).toEqual([2, undefined]);
    expect([layer('dense').minBits, layer('dense').maxBits]).toEqual([8, undefined]);
    expect(layer('conv1').exactKernel().positions).toEqual([0, 1, 2]);
    expect(Array.from(layer('conv1').maskVariable.read().dataSync())).toEqual([
      1, 1, 1, -1, -1, -1, -1, -1,
    ]);
    // exact codes of conv1 = the 8-bit codes with the five low digits dropped (per sign plane)
    const full = quantizeModel(float, { bits: 8 }).getLayer('conv1') as CsqLayer;
    const top = Array.from(
      full.exactKernel().codes,
      (c) => Math.sign(c) * (Math.abs(c) & 0xe0) + 0,
    );
    expect(Array.from(layer('conv1').exactKernel().codes)).toEqual(top);
    // the bounds survive the layer config (save / load)
    expect(layer('conv1').getConfig()).toMatchObject({ minBits: 2, maxBits: 3, maskLogit: 1 });
    expect(() => quantizeModel(float, { overrides: { conv1: { minBits: 9 } } })).toThrow(
      /minBits must be an integer in 0\.\.8/,
    );
    expect(() =>
      quantizeModel(float, { overrides: { conv1: { minBits: 4, maxBits: 2 } } }),
    ).toThrow(/above maxBits/);
    expect(() => quantizeModel(float, { maskLogit: 0 })).toThrow(/maskLogit/);
  });

  it('converts a Sequential model', () => {
    const seq = tf.sequential({
      layers: [
        tf.layers.dense({
          name: 'd1',
          units: 6,
          inputShape: [3],
          activation: 'relu',
          biasInitializer: 'ones',
        }),
        tf.layers.dense({ name: 'd2', units: 2 }),
      ],
    });
    const q = quantizeModel(seq, { bits: 6 });
    expect(q.getClassName()).toBe('Sequential');
    new CsqController(q).setExact(true);
    const x = tf.randomNormal([5, 3], 0, 1, 'float32', 8);
    const y = (q.predict(x) as tf.Tensor).dataSync();
    quantizeFloatInPlace(seq, () => 6);
    expectClose(y, (seq.predict(x) as tf.Tensor).dataSync(), { rtol: 1e-4, atol: 1e-5 });
  });
});
