import { quantizeUniform } from '@csq/core';
import { expectClose, useBackend } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel, mnistCnn, resnet18, resnet20, resnet50 } from './builders.js';
import { CsqController } from './controller.js';
import type { CsqConv2D } from './csq-conv2d.js';
import { isCsqLayer } from './types.js';

function quantNames(m: tf.LayersModel): string[] {
  return m.layers.filter(isCsqLayer).map((l) => l.name);
}
function floatConvNames(m: tf.LayersModel): string[] {
  return m.layers.filter((l) => l.getClassName() === 'Conv2D').map((l) => l.name);
}
function trainableCount(m: tf.LayersModel): number {
  return m.trainableWeights.reduce(
    (a, w) => a + w.shape.reduce((x: number, y) => x * (y ?? 1), 1),
    0,
  );
}

describe('builders', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('mnist-cnn has the documented layers, all quantized and counted, and outputs logits', () => {
    const m = mnistCnn({ bits: 4 });
    expect(m.layers.map((l) => l.name)).toEqual([
      'input',
      'conv1',
      'bn1',
      'relu1',
      'pool1',
      'conv2',
      'bn2',
      'relu2',
      'pool2',
      'conv3',
      'bn3',
      'relu3',
      'gap',
      'dense',
    ]);
    expect(m.inputs[0]!.shape).toEqual([null, 28, 28, 1]);
    expect(m.outputs[0]!.shape).toEqual([null, 10]);
    const ctl = new CsqController(m);
    expect(ctl.layers.map((l) => [l.name, l.bits, l.counted, l.paramCount(), l.macs()])).toEqual([
      ['conv1', 4, true, 3 * 3 * 1 * 16, 28 * 28 * 16 * 9],
      ['conv2', 4, true, 3 * 3 * 16 * 32, 14 * 14 * 32 * 9 * 16],
      ['conv3', 4, true, 3 * 3 * 32 * 64, 7 * 7 * 64 * 9 * 32],
      ['dense', 4, true, 64 * 10, 640],
    ]);
    expect((m.getLayer('conv1') as CsqConv2D).useBias).toBe(false);
    expect((m.getLayer('dense') as CsqConv2D).useBias).toBe(true);
    const y = m.predict(tf.zeros([2, 28, 28, 1])) as tf.Tensor;
    expect(y.shape).toEqual([2, 10]);
  });

  it('the float network has the same topology and the same seeded float init; seeds decide it', () => {
    const q = mnistCnn({ seed: 5, bits: 8 });
    const f = mnistCnn({ seed: 5, quantized: false });
    const f2 = mnistCnn({ seed: 5, quantized: false });
    const f3 = mnistCnn({ seed: 6, quantized: false });
    expect(f.layers.map((l) => l.name)).toEqual(q.layers.map((l) => l.name));
    expect(quantNames(f)).toEqual([]);
    expect(floatConvNames(f)).toEqual(['conv1', 'conv2', 'conv3']);
    const w = (m: tf.LayersModel, n: string) => m.getLayer(n).getWeights()[0]!.dataSync();
    expect(Array.from(w(f, 'conv2'))).toEqual(Array.from(w(f2, 'conv2')));
    expect(Array.from(w(f, 'conv2'))).not.toEqual(Array.from(w(f3, 'conv2')));
    // the CSQ planes encode the 8-bit quantisation of the float network's own kernel (spec 1)
    const ctl = new CsqController(q);
    for (const l of ctl.layers) l.maskVariable.write(tf.ones([8]));
    ctl.setExact(true);
    for (const name of ['conv1', 'conv2', 'dense']) {
      const k = (q.getLayer(name) as CsqConv2D).kernelTensor().dataSync();
      expectClose(k, quantizeUniform(w(f, name), 8), { rtol: 1e-6, atol: 1e-7 });
    }
    // same seed, same CSQ model
    const q2 = mnistCnn({ seed: 5, bits: 8 });
    const p = (m: tf.LayersModel) =>
      (m.getLayer('conv3') as CsqConv2D).csqKernel.p.read().dataSync();
    expect(Array.from(p(q2))).toEqual(Array.from(p(q)));
  });

  it('resnet20: 20 quantized counted layers, 2 float shortcuts, act quant after each block ReLU', () => {
    const m = resnet20({ bits: 6, actBits: 4 });
    const q = quantNames(m);
    expect(q).toHaveLength(20);
    expect(q[0]).toBe('conv1');
    expect(q.at(-1)).toBe('fc');
    expect(floatConvNames(m)).toEqual(['layer2.0.downsample.0', 'layer3.0.downsample.0']);
    const ctl = new CsqController(m);
    expect(ctl.layers.every((l) => l.counted && l.bits === 6)).toBe(true);
    const acts = m.layers.filter((l) => l.getClassName() === 'CsqActQuant');
    expect(acts).toHaveLength(18); // two per block, none after the stem
    expect(m.getLayer('relu1').getClassName()).toBe('ReLU');
    expect(m.outputs[0]!.shape).toEqual([null, 10]);
    expect(m.getLayer('layer3.2.relu2').outputShape).toEqual([null, 8, 8, 64]);
    // 0.27M weights in the quantized layers (He et al.), shortcuts excluded
    const params = ctl.layers.reduce((a, l) => a + l.paramCount(), 0);
    expect(params).toBe(432 + 6 * 2304 + 4608 + 5 * 9216 + 18432 + 5 * 36864 + 640);
    const y = m.predict(tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 3)) as tf.Tensor;
    expect(y.shape).toEqual([2, 10]);
    expect(Array.from(y.dataSync()).every(Number.isFinite)).toBe(true);
    const plain = resnet20({ actBits: 4, quantized: false });
    expect(plain.layers.filter((l) => l.getClassName() === 'CsqActQuant')).toHaveLength(0);
    expect(plain.layers).toHaveLength(m.layers.length);
  });

  it('resnet18 and resnet50 (narrow) have the spec 5 quantized/counted sets', () => {
    const r18 = resnet18({
      widthMultiplier: 0.125,
      inputShape: [32, 32, 3],
      numClasses: 5,
      actBits: 2,
    });
    expect(quantNames(r18)).toHaveLength(18);
    expect(floatConvNames(r18)).toEqual([
      'layer2.0.downsample.0',
      'layer3.0.downsample.0',
      'layer4.0.downsample.0',
    ]);
    expect(r18.layers.filter((l) => l.getClassName() === 'CsqActQuant')).toHaveLength(16);
    const r50 = resnet50({
      widthMultiplier: 0.125,
      inputShape: [32, 32, 3],
      numClasses: 5,
      bits: 4,
      actBits: 4,
    });
    const ctl = new CsqController(r50);
    expect(ctl.layers).toHaveLength(50);
    expect(ctl.layers.filter((l) => l.bits === 8).map((l) => l.name)).toEqual(['conv1', 'fc']);
    expect(ctl.layers.filter((l) => l.bits === 4)).toHaveLength(48);
    expect(ctl.layers.every((l) => l.counted)).toBe(true);
    expect(floatConvNames(r50)).toEqual([
      'layer1.0.downsample.0',
      'layer2.0.downsample.0',
      'layer3.0.downsample.0',
      'layer4.0.downsample.0',
    ]);
    expect(r50.layers.filter((l) => l.getClassName() === 'CsqActQuant')).toHaveLength(16 * 3);
    expect(r50.getLayer('layer4.2.relu3').outputShape).toEqual([null, 1, 1, 256]);
    expect((r50.predict(tf.zeros([1, 32, 32, 3])) as tf.Tensor).shape).toEqual([1, 5]);
    expect(() => buildModel('vgg' as 'resnet20')).toThrow(/unknown model/);
    expect(() => buildModel('resnet20', { bits: 40 })).toThrow(/bits/);
  });

  it('full-width float ResNet-18/50 have torchvision parameter counts', () => {
    expect(trainableCount(resnet18({ quantized: false }))).toBe(11_689_512);
    expect(trainableCount(resnet50({ quantized: false }))).toBe(25_557_032);
  });
});
