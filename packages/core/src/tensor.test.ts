import { expectClose, finiteDifference, TEST_BACKENDS, uniform, useBackend } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { clipAndQuantize, pactClip, quantizeActivation } from './activation.js';
import { bitPlaneWeights, exactWeight, sigmoid, softWeight } from './bits.js';
import {
  budgetPenaltyTensor,
  exactWeightTensor,
  quantizeBiasTensor,
  softWeightTensor,
} from './tensor.js';

const bits = 4;
const kernelShape = [3, 3, 2, 5];
const count = kernelShape.reduce((a, b) => a * b, 1);
const P = uniform(count * bits, -2, 2, 21);
const N = uniform(count * bits, -2, 2, 22);
const M = Float32Array.from([0.7, -0.2, 0.05, -1.1]);
const S = 0.37;

/** Independent float64 soft weight loss sum_k G_k W_k, for finite differences. */
function softLoss64(
  p: ArrayLike<number>,
  n: ArrayLike<number>,
  m: ArrayLike<number>,
  s: number,
  beta: number,
  g: ArrayLike<number>,
): number {
  const e = bitPlaneWeights(bits);
  let total = 0;
  for (let k = 0; k < count; k++) {
    let w = 0;
    for (let i = 0; i < bits; i++) {
      w +=
        e[i]! *
        sigmoid(beta * m[i]!) *
        (sigmoid(beta * p[k * bits + i]!) - sigmoid(beta * n[k * bits + i]!));
    }
    total += g[k]! * s * w;
  }
  return total;
}

describe.each(TEST_BACKENDS)('tensor formulas on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  const planes = () => ({
    p: tf.tensor([...P], [...kernelShape, bits]),
    n: tf.tensor([...N], [...kernelShape, bits]),
    m: tf.tensor1d([...M]),
    scale: tf.scalar(S),
    bits,
  });

  it.each([1, 7.3, 200])('softWeightTensor agrees with the reference to 1e-6 (beta %s)', (beta) => {
    const t = planes();
    const w = softWeightTensor({ ...t, beta });
    expect(w.shape).toEqual(kernelShape);
    const ref = softWeight({ p: P, n: N, m: M, scale: S, beta, bits });
    expectClose(w.dataSync(), ref, { rtol: 1e-6, atol: 1e-6 * S });
    const hard = softWeightTensor({ ...t, beta, hardMask: true });
    expectClose(
      hard.dataSync(),
      softWeight({ p: P, n: N, m: M, scale: S, beta, bits, hardMask: true }),
      {
        rtol: 1e-6,
        atol: 1e-6 * S,
      },
    );
    tf.dispose([w, hard, t.p, t.n, t.m, t.scale]);
  });

  it('exactWeightTensor agrees with the reference', () => {
    const t = planes();
    const w = exactWeightTensor(t);
    expectClose(w.dataSync(), exactWeight({ p: P, n: N, m: M, scale: S, bits }), {
      rtol: 1e-6,
      atol: 1e-7,
    });
    tf.dispose([w, t.p, t.n, t.m, t.scale]);
  });

  it('gradients reach p, n, m and scale and match finite differences', () => {
    const beta = 1.7;
    const G = uniform(count, -1, 1, 5);
    const t = planes();
    const g = tf.tensor([...G], kernelShape);
    const loss = (p: tf.Tensor, n: tf.Tensor, m: tf.Tensor, scale: tf.Tensor) =>
      tf.sum(tf.mul(softWeightTensor({ p, n, m, scale, bits, beta }), g));
    const [gp, gn, gm, gs] = tf.grads(loss)([t.p, t.n, t.m, t.scale]);
    const fdP = finiteDifference((x) => softLoss64(x, N, M, S, beta, G), P, 1e-5);
    const fdN = finiteDifference((x) => softLoss64(P, x, M, S, beta, G), N, 1e-5);
    const fdM = finiteDifference((x) => softLoss64(P, N, x, S, beta, G), M, 1e-5);
    const fdS = finiteDifference((x) => softLoss64(P, N, M, x[0]!, beta, G), [S], 1e-5);
    expectClose(gp!.dataSync(), fdP, { rtol: 1e-3, atol: 1e-6 });
    expectClose(gn!.dataSync(), fdN, { rtol: 1e-3, atol: 1e-6 });
    expectClose(gm!.dataSync(), fdM, { rtol: 1e-3, atol: 1e-5 });
    expectClose(gs!.dataSync(), fdS, { rtol: 1e-3, atol: 1e-6 });
    // with a hard mask, m gets no gradient
    const [gmHard] = tf.grads((m: tf.Tensor) =>
      tf.sum(tf.mul(softWeightTensor({ ...t, m, beta, hardMask: true }), g)),
    )([t.m]);
    expect(Array.from(gmHard!.dataSync())).toEqual([0, 0, 0, 0]);
    tf.dispose([gp!, gn!, gm!, gs!, gmHard!, g, t.p, t.n, t.m, t.scale]);
  });

  it('budget penalty: value and gradient', () => {
    const m1 = tf.tensor1d([0.5, -0.5]);
    const m2 = tf.tensor1d([1, 0, 2]);
    const beta = 2;
    const coef = 0.3;
    const w = [0.5, 1.5];
    const value = budgetPenaltyTensor([m1, m2], w, beta, coef);
    const expected =
      coef * (0.5 * (sigmoid(1) + sigmoid(-1)) + 1.5 * (sigmoid(2) + 0.5 + sigmoid(4)));
    expectClose(value.dataSync(), [expected], 1e-6);
    const [g1, g2] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      budgetPenaltyTensor([a, b], w, beta, coef),
    )([m1, m2]);
    const d = (x: number) => beta * sigmoid(beta * x) * (1 - sigmoid(beta * x));
    expectClose(g1!.dataSync(), [coef * 0.5 * d(0.5), coef * 0.5 * d(-0.5)], 1e-5);
    expectClose(g2!.dataSync(), [coef * 1.5 * d(1), coef * 1.5 * d(0), coef * 1.5 * d(2)], 1e-5);
    // a positive coefficient makes gradient descent push every logit down (prune), negative up (grow)
    expect(Array.from(g2!.dataSync()).every((v) => v > 0)).toBe(true);
    tf.dispose([m1, m2, value, g1!, g2!]);
  });

  it('bias: round-and-clip to N bits with a straight-through gradient', () => {
    const u = tf.tensor1d([0.5, -0.26, 1.7, -3]);
    const s = tf.scalar(2);
    const b = quantizeBiasTensor(u, s, 2); // q = 3: round(1.5)=2, round(-0.78)=-1, clip 1, clip -1
    expectClose(b.dataSync(), [(2 * 2) / 3, (2 * -1) / 3, 2, -2], 1e-6);
    const [gu, gs] = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
      tf.sum(tf.mul(quantizeBiasTensor(x, y, 2), [1, 2, 3, 4])),
    )([u, s]);
    expectClose(gu!.dataSync(), [2, 4, 6, 8], 1e-6); // identity through the rounding, times the scale
    expectClose(gs!.dataSync(), [(1 * 2) / 3 + (2 * -1) / 3 + 3 - 4], 1e-6);
    tf.dispose([u, s, b, gu!, gs!]);
  });

  it('activation quantizer: max-scaled rounding with identity gradient (spec 4)', () => {
    const x = tf.tensor1d([0, 1, 2, 3, -4]);
    // a = 2: S = 4, |x| 3/4 = [0, .75, 1.5, 2.25, 3] -> [0, 1, 2, 2, 3] -> x S / 3
    const y = quantizeActivation(x, 2);
    expectClose(y.dataSync(), [0, 4 / 3, 8 / 3, 8 / 3, -4], 1e-6);
    const [gx] = tf.grads((v: tf.Tensor) =>
      tf.sum(tf.mul(quantizeActivation(v, 2), [1, 2, 3, 4, 5])),
    )([x]);
    expectClose(gx!.dataSync(), [1, 2, 3, 4, 5], 1e-7);
    const zeros = quantizeActivation(tf.zeros([3]), 4);
    expect(Array.from(zeros.dataSync())).toEqual([0, 0, 0]);
    expect(() => quantizeActivation(x, 17)).toThrow(/actBits/);
    tf.dispose([x, y, gx!, zeros]);
  });

  it('PACT clip and its gradients', () => {
    const x = tf.tensor1d([-1, 0.5, 2, 3]);
    const alpha = tf.scalar(2);
    const y = pactClip(x, alpha);
    expectClose(y.dataSync(), [0, 0.5, 2, 2], 1e-7);
    const [gx, ga] = tf.grads((v: tf.Tensor, a: tf.Tensor) =>
      tf.sum(tf.mul(pactClip(v, a), [1, 2, 3, 4])),
    )([x, alpha]);
    expectClose(gx!.dataSync(), [0, 2, 0, 0], 1e-7);
    expectClose(ga!.dataSync(), [3 + 4], 1e-7);
    tf.dispose([x, alpha, y, gx!, ga!]);
  });

  it('clip then quantize: ReLU6 above 3 bits, PACT at 3 or fewer', () => {
    const x = tf.tensor1d([-1, 3, 7]);
    const y4 = clipAndQuantize(x, 4); // relu6 -> [0, 3, 6], S = 6, q = 15: 3*15/6 = 7.5 -> 8
    expectClose(y4.dataSync(), [0, (8 / 15) * 6, 6], 1e-6);
    const [g4] = tf.grads((v: tf.Tensor) => tf.sum(clipAndQuantize(v, 4)))([x]);
    expectClose(g4!.dataSync(), [0, 1, 0], 1e-7);
    const alpha = tf.scalar(4);
    const y2 = clipAndQuantize(x, 2, alpha); // pact -> [0, 3, 4], S = 4, q = 3: 3*3/4 = 2.25 -> 2
    expectClose(y2.dataSync(), [0, (2 / 3) * 4, 4], 1e-6);
    expect(() => clipAndQuantize(x, 2)).toThrow(/PACT/);
    const y0 = clipAndQuantize(x, 0);
    expectClose(y0.dataSync(), [0, 3, 7], 1e-7);
    tf.dispose([x, y4, g4!, alpha, y2, y0]);
  });

  it('does not leak tensors', () => {
    const t = planes();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      tf.dispose(softWeightTensor({ ...t, beta: 3 }));
      tf.dispose(exactWeightTensor(t));
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([t.p, t.n, t.m, t.scale]);
  });
});
