/**
 * The builders' float layers: the fused batch norm in training equals tfjs's own layer (output,
 * gradients, moving averages), the unfused conv equals tf.layers.conv2d and skips the first
 * conv's input gradient, and both serialize as the tfjs classes.
 *
 * csq's real kernels are wasm's (@csq/backend-wasm-kernels, tested there against tf.moments +
 * tf.batchNorm); here reference kernels in plain JavaScript stand in for them on the cpu backend,
 * so this tests the op and the layer: the custom gradient, the saved tensors, the moving averages.
 */
import { expectClose, uniform, useBackend } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BATCH_NORM_TRAINING_KERNELS,
  FloatConv2D,
  FusedBatchNormalization,
  hasFusedBatchNorm,
} from './float-layers.js';

type Info = tf.TensorInfo;
type CpuBackend = {
  readSync(dataId: object): Float32Array;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): Info;
};

function dims(x: Info): { rows: number; ch: number } {
  const ch = x.shape[x.shape.length - 1]!;
  return { rows: x.shape.reduce((a, b) => a * b, 1) / ch, ch };
}

/** Reference CsqBatchNormTraining in float64 loops. */
const forwardKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as unknown as CpuBackend;
  const { x, scale, offset } = inputs as Record<string, Info>;
  const eps = (attrs as { varianceEpsilon: number }).varianceEpsilon;
  const { rows, ch } = dims(x!);
  const xv = b.readSync(x!.dataId);
  const [s, o] = [b.readSync(scale!.dataId), b.readSync(offset!.dataId)];
  const mean = new Float32Array(ch);
  const variance = new Float32Array(ch);
  const y = new Float32Array(xv.length);
  for (let c = 0; c < ch; c++) {
    let m = 0;
    for (let r = 0; r < rows; r++) m += xv[r * ch + c]!;
    m /= rows;
    let v = 0;
    for (let r = 0; r < rows; r++) v += (xv[r * ch + c]! - m) ** 2;
    v /= rows;
    mean[c] = m;
    variance[c] = v;
    for (let r = 0; r < rows; r++)
      y[r * ch + c] = ((xv[r * ch + c]! - m) * s[c]!) / Math.sqrt(v + eps) + o[c]!;
  }
  return [
    b.makeTensorInfo(x!.shape, 'float32', y),
    b.makeTensorInfo([ch], 'float32', mean),
    b.makeTensorInfo([ch], 'float32', variance),
  ];
};

/** Reference CsqBatchNormTrainingGrad (the closed form, float64). */
const gradientKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as unknown as CpuBackend;
  const { dy, x, scale, mean, variance } = inputs as Record<string, Info>;
  const eps = (attrs as { varianceEpsilon: number }).varianceEpsilon;
  const { rows, ch } = dims(x!);
  const [g, xv, s, m, v] = [dy, x, scale, mean, variance].map((t) => b.readSync(t!.dataId));
  const dx = new Float32Array(xv!.length);
  const ds = new Float32Array(ch);
  const db = new Float32Array(ch);
  for (let c = 0; c < ch; c++) {
    const inv = 1 / Math.sqrt(v![c]! + eps);
    let s1 = 0;
    let s2 = 0;
    for (let r = 0; r < rows; r++) {
      s1 += g![r * ch + c]!;
      s2 += g![r * ch + c]! * (xv![r * ch + c]! - m![c]!);
    }
    ds[c] = s2 * inv;
    db[c] = s1;
    const k = s![c]! * inv;
    for (let r = 0; r < rows; r++) {
      const i = r * ch + c;
      dx[i] = k * g![i]! - ((k * inv * inv * s2) / rows) * (xv![i]! - m![c]!) - (k * s1) / rows;
    }
  }
  return [
    b.makeTensorInfo(x!.shape, 'float32', dx),
    b.makeTensorInfo([ch], 'float32', ds),
    b.makeTensorInfo([ch], 'float32', db),
  ];
};

function registerReference(): void {
  tf.registerKernel({
    kernelName: BATCH_NORM_TRAINING_KERNELS.forward,
    backendName: 'cpu',
    kernelFunc: forwardKernel,
  });
  tf.registerKernel({
    kernelName: BATCH_NORM_TRAINING_KERNELS.gradient,
    backendName: 'cpu',
    kernelFunc: gradientKernel,
  });
}
function unregisterReference(): void {
  for (const name of Object.values(BATCH_NORM_TRAINING_KERNELS))
    if (tf.getKernel(name, 'cpu')) tf.unregisterKernel(name, 'cpu');
}

function rand(shape: number[], seed: number, lo = -1, hi = 1): tf.Tensor {
  return tf.tensor(uniform(tf.util.sizeFromShape(shape), lo, hi, seed), shape);
}

/** A conv -> BN net with the given layers; the same weights for every variant. */
function convBn(bn: tf.layers.Layer, conv: tf.layers.Layer): tf.LayersModel {
  const input = tf.input({ shape: [6, 6, 3] });
  const y = bn.apply(conv.apply(input)) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: y });
  model.setWeights(
    model.getWeights().map((w, i) => {
      if (w.shape.length === 4) return rand(w.shape, 100 + i);
      const name = model.weights[i]!.name;
      if (name.includes('moving_variance')) return rand(w.shape, 100 + i, 0.5, 1.5);
      return rand(w.shape, 100 + i, 0.5, 1.5);
    }),
  );
  return model;
}

const args = { momentum: 0.9, epsilon: 1e-5 };
const convArgs = { filters: 4, kernelSize: 3, padding: 'same' as const, useBias: false };

/** One training-mode forward and the gradients of a weighted sum, plus the moving stats after. */
function trainingStep(model: tf.LayersModel, x: tf.Tensor, w: tf.Tensor) {
  const vars = model.trainableWeights.map((v) => v.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(
    () => tf.sum(tf.mul(model.apply(x, { training: true }) as tf.Tensor, w)) as tf.Scalar,
    vars,
  );
  const out = [value, ...vars.map((v) => grads[v.name]!)];
  const moving = model.weights.filter((v) => v.name.includes('moving')).map((v) => v.read());
  return [...out, ...moving].map((t) => t.dataSync() as Float32Array);
}

describe('the builders float layers', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });
  afterAll(() => unregisterReference());

  it('FusedBatchNormalization in training equals tf.layers.batchNormalization (y, gradients, moving averages)', async () => {
    const x = rand([5, 6, 6, 3], 1, -2, 3);
    const w = rand([5, 6, 6, 4], 2);
    const plain = convBn(tf.layers.batchNormalization(args), tf.layers.conv2d(convArgs));
    const expected = trainingStep(plain, x, w);
    registerReference();
    try {
      expect(hasFusedBatchNorm()).toBe(true);
      const fused = convBn(new FusedBatchNormalization(args), tf.layers.conv2d(convArgs));
      const movingMean = fused.weights.find((v) => v.name.includes('moving_mean'))!;
      const before = movingMean.read().dataSync().slice();
      let actual: Float32Array[] = [];
      const info = await tf.profile(() => {
        actual = trainingStep(fused, x, w);
      });
      const names = info.kernels.map((k) => k.name);
      expect(names).toContain(BATCH_NORM_TRAINING_KERNELS.forward);
      expect(names).toContain(BATCH_NORM_TRAINING_KERNELS.gradient);
      expect(names).not.toContain('FusedBatchNorm'); // tfjs's path did not run
      expect(actual.length).toBe(expected.length);
      for (let i = 0; i < expected.length; i++)
        expectClose(actual[i]!, expected[i]!, { rtol: 1e-4, atol: 1e-5 });
      // the moving averages moved (else comparing them proves little)
      expect(Array.from(movingMean.read().dataSync()).some((v, i) => v !== before[i])).toBe(true);
    } finally {
      unregisterReference();
    }
  });

  it('FusedBatchNormalization is tfjs own layer in inference and where the kernels are missing', () => {
    expect(hasFusedBatchNorm()).toBe(false);
    const x = rand([2, 6, 6, 3], 3);
    const a = convBn(new FusedBatchNormalization(args), tf.layers.conv2d(convArgs));
    const b = convBn(tf.layers.batchNormalization(args), tf.layers.conv2d(convArgs));
    for (const training of [false, true]) {
      expectClose(
        (a.apply(x, { training }) as tf.Tensor).dataSync(),
        (b.apply(x, { training }) as tf.Tensor).dataSync(),
        { rtol: 1e-6, atol: 1e-6 },
      );
    }
  });

  it('FloatConv2D equals tf.layers.conv2d and skips the input gradient of a first conv', async () => {
    const x = rand([3, 6, 6, 3], 4);
    const w = rand([3, 3, 3, 4], 5);
    const ours = convBn(
      tf.layers.batchNormalization(args),
      new FloatConv2D({ ...convArgs, strides: 2 }),
    );
    const theirs = convBn(
      tf.layers.batchNormalization(args),
      tf.layers.conv2d({ ...convArgs, strides: 2 }),
    );
    const expected = trainingStep(theirs, x, w);
    let actual: Float32Array[] = [];
    const info = await tf.profile(() => {
      actual = trainingStep(ours, x, w);
    });
    for (let i = 0; i < expected.length; i++)
      expectClose(actual[i]!, expected[i]!, { rtol: 1e-5, atol: 1e-6 });
    const names = info.kernels.map((k) => k.name);
    expect(names).toContain('Conv2DBackpropFilter');
    expect(names).not.toContain('Conv2DBackpropInput');
    const theirInfo = await tf.profile(() => {
      trainingStep(theirs, x, w);
    });
    expect(theirInfo.kernels.map((k) => k.name)).toContain('Conv2DBackpropInput'); // the waste
  });

  it('FloatConv2D keeps tfjs path with a bias, and both layers serialize as the tfjs classes', async () => {
    const conv = new FloatConv2D({ ...convArgs, useBias: true, name: 'c' });
    const model = convBn(new FusedBatchNormalization({ ...args, name: 'bn' }), conv);
    const json = JSON.stringify(model.toJSON(null, false));
    expect(json).toContain('"class_name":"Conv2D"');
    expect(json).toContain('"class_name":"BatchNormalization"');
    const loaded = await tf.models.modelFromJSON(JSON.parse(json));
    loaded.setWeights(model.getWeights());
    expect(loaded.getLayer('c').constructor).not.toBe(FloatConv2D);
    const x = rand([2, 6, 6, 3], 6);
    expectClose(
      (loaded.predict(x) as tf.Tensor).dataSync(),
      (model.predict(x) as tf.Tensor).dataSync(),
      { rtol: 1e-6, atol: 1e-6 },
    );
  });
});
