/**
 * A few SGD-momentum steps of a tiny CSQ network on fixed data, written with plain tfjs ops and
 * @csq/core only (the stand-in for @csq/trainer's loop until it exists):
 *
 *   x [4, 8, 8, 1] -> conv 3x3x1x4 (CSQ soft weight, N = 4) -> ReLU -> PACT clip (alpha)
 *   -> 2-bit max-scaled activation rounding -> spatial mean [4, 4]
 *   -> dense 4x3 (CSQ soft weight, N = 4) + float bias -> softmax cross-entropy
 *
 * plus the spec 3 budget term (slots mode, target 2 bits, lambda 0.01, R from the masks without
 * gradient), beta growing 1, 2, 4, ... (spec 2 schedule with finalTemp 2^(steps-1)) and the last
 * step in the ticket phase (hard masks, no penalty). SGD with momentum 0.9 and weight decay 5e-4
 * on every variable, masks included (spec 6). Browser-safe: no Node or vitest imports.
 */
import {
  betaForEpoch,
  budgetPenaltyTensor,
  budgetStats,
  exactWeightTensor,
  initBitPlanes,
  initMask,
  isTicketPhase,
  PACT_ALPHA_INIT,
  pactClip,
  penaltyWeights,
  quantizeActivation,
  selectedBits,
  softWeightTensor,
} from '@csq/core';
import * as tf from '@tensorflow/tfjs';
import { mulberry32, uniformArray } from './rng.js';

export interface TinyTrainOptions {
  /** Training steps (default 4; the last one is the ticket phase). */
  steps?: number;
  lr?: number;
  momentum?: number;
  weightDecay?: number;
}

export interface TinyStepLog {
  beta: number;
  ticket: boolean;
  loss: number;
  ce: number;
  penalty: number;
  /** lambda (R - R_T), read from the masks before the step. */
  coefficient: number;
  /** Selected bits of [conv, dense] before the step. */
  bits: number[];
}

export interface TinyTrainResult {
  backend: string;
  steps: TinyStepLog[];
  /** Every variable after training, flattened. */
  finalVars: Record<string, number[]>;
  /** Exact (Heaviside) conv kernel and exact-model logits after training. */
  exactKernel: number[];
  exactLogits: number[];
  /** Wall time of each step in ms (printed by the benchmark, never asserted). */
  stepMs: number[];
  /** tf.memory().numTensors after minus before the run (0: nothing leaked). */
  leakedTensors: number;
}

const BATCH = 4;
const SIZE = 8;
const FILTERS = 4;
const CLASSES = 3;
const BITS = 4;
const ACT_BITS = 2;
const TARGET_BITS = 2;
const LAMBDA = 0.01;
/** Names of the trained variables, in order, as keys of `finalVars`. */
export const VAR_LABELS = [
  'conv.p',
  'conv.n',
  'conv.m',
  'conv.scale',
  'dense.p',
  'dense.n',
  'dense.m',
  'dense.scale',
  'dense.bias',
  'pact.alpha',
] as const;

interface Layer {
  p: tf.Variable;
  n: tf.Variable;
  m: tf.Variable;
  s: tf.Variable;
}

/** A trainable variable from `t`, freeing `t` (a variable holds its own reference). */
function variableFrom(t: tf.Tensor, trainable = true): tf.Variable {
  const v = tf.variable(t, trainable);
  t.dispose();
  return v;
}

// Unnamed variables: tfjs variable names are global, and a failed run must not block the next.
function csqLayer(shape: number[], fanIn: number, seed: number): Layer {
  const size = shape.reduce((a, b) => a * b, 1);
  const bound = Math.sqrt(6 / fanIn); // He-uniform float init, then spec 1 bit planes
  const planes = initBitPlanes(uniformArray(size, -bound, bound, seed), BITS);
  return {
    p: variableFrom(tf.tensor(planes.p, [...shape, BITS])),
    n: variableFrom(tf.tensor(planes.n, [...shape, BITS])),
    m: variableFrom(tf.tensor1d(initMask(BITS))),
    s: variableFrom(tf.scalar(planes.scale)),
  };
}

/** The fixed batch: 4 images 8x8x1 in [0, 1) and labels 0, 1, 2, 0. */
export function tinyBatch(): { images: Float32Array; labels: Int32Array } {
  return {
    images: uniformArray(BATCH * SIZE * SIZE, 0, 1, 7),
    labels: Int32Array.from([0, 1, 2, 0]),
  };
}

/** Trains the tiny network on the active backend and reports losses and final weights. */
export async function tinyCsqTraining(opts: TinyTrainOptions = {}): Promise<TinyTrainResult> {
  const steps = opts.steps ?? 4;
  const lr = opts.lr ?? 0.1;
  const mu = opts.momentum ?? 0.9;
  const wd = opts.weightDecay ?? 5e-4;
  const ticket = steps - 1;
  const finalTemp = 2 ** Math.max(1, ticket);
  const before = tf.memory().numTensors;

  const conv = csqLayer([3, 3, 1, FILTERS], 9, 101);
  const dense = csqLayer([FILTERS, CLASSES], FILTERS, 102);
  const r = mulberry32(103);
  const bias = variableFrom(tf.tensor1d(Array.from({ length: CLASSES }, () => 0.1 * (r() - 0.5))));
  // PACT starts at alpha = 10 (spec 4); a quarter of it lets the clip act on this tiny net.
  const alpha = variableFrom(tf.scalar(PACT_ALPHA_INIT / 4));
  const vars: tf.Variable[] = [conv.p, conv.n, conv.m, conv.s, dense.p, dense.n, dense.m, dense.s];
  vars.push(bias, alpha);
  const velocity = vars.map((v) => variableFrom(tf.zerosLike(v), false));

  const { images, labels } = tinyBatch();
  const x = tf.tensor4d(images, [BATCH, SIZE, SIZE, 1]);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), CLASSES));
  const layerWeights = penaltyWeights(
    [
      { name: 'conv', maxBits: BITS, bits: BITS, params: 36 },
      { name: 'dense', maxBits: BITS, bits: BITS, params: 12 },
    ],
    'slots',
  );

  const weightOf = (l: Layer, beta: number, hard: boolean) =>
    softWeightTensor({ p: l.p, n: l.n, m: l.m, scale: l.s, bits: BITS, beta, hardMask: hard });
  const forward = (wc: tf.Tensor, wd_: tf.Tensor): tf.Tensor2D => {
    const h = tf.conv2d(x, wc as tf.Tensor4D, 1, 'same');
    const a = quantizeActivation(pactClip(tf.relu(h), alpha), ACT_BITS);
    const pooled = tf.mean(a, [1, 2]) as tf.Tensor2D;
    return tf.add(tf.matMul(pooled, wd_ as tf.Tensor2D), bias);
  };

  const log: TinyStepLog[] = [];
  const stepMs: number[] = [];
  for (let step = 0; step < steps; step++) {
    const t0 = performance.now();
    const beta = betaForEpoch(step, { ticket, finalTemp });
    const hard = isTicketPhase(step, ticket);
    // spec 3: R from the current masks, no gradient; the penalty is 0 in the ticket phase
    const mConv = await conv.m.data();
    const mDense = await dense.m.data();
    const bits = [selectedBits(mConv), selectedBits(mDense)];
    const stats = budgetStats(
      [
        { name: 'conv', maxBits: BITS, bits: bits[0]!, params: 36 },
        { name: 'dense', maxBits: BITS, bits: bits[1]!, params: 12 },
      ],
      { mode: 'slots', targetBits: TARGET_BITS },
    );
    const coefficient = hard ? 0 : LAMBDA * stats.coefficient;

    let ceT: tf.Scalar | undefined;
    let penT: tf.Scalar | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const logits = forward(weightOf(conv, beta, hard), weightOf(dense, beta, hard));
      ceT = tf.keep(tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar);
      penT = tf.keep(budgetPenaltyTensor([conv.m, dense.m], layerWeights, beta, coefficient));
      return tf.add(ceT, penT) as tf.Scalar;
    }, vars);
    tf.tidy(() => {
      // SGD, PyTorch convention: v <- mu v + (g + wd w); w <- w - lr v. Masks get no gradient
      // in the ticket phase (H has none), so only their decay moves them there.
      vars.forEach((v, i) => {
        const g = grads[v.name] ?? tf.zerosLike(v);
        const vel = velocity[i]!;
        vel.assign(tf.add(tf.mul(vel, mu), tf.add(g, tf.mul(v, wd))));
        v.assign(tf.sub(v, tf.mul(vel, lr)));
      });
    });
    const parts = tf.stack([value, ceT!, penT!]);
    tf.dispose([value, ceT!, penT!, ...Object.values(grads)]);
    const [loss, ce, penalty] = Array.from(await parts.data());
    parts.dispose();
    stepMs.push(performance.now() - t0);
    log.push({ beta, ticket: hard, loss: loss!, ce: ce!, penalty: penalty!, coefficient, bits });
  }

  const finalVars: Record<string, number[]> = {};
  for (let i = 0; i < vars.length; i++)
    finalVars[VAR_LABELS[i]!] = Array.from(await vars[i]!.data());
  const exactConvT = exactWeightTensor({
    p: conv.p,
    n: conv.n,
    m: conv.m,
    scale: conv.s,
    bits: BITS,
  });
  const exactDenseT = exactWeightTensor({
    p: dense.p,
    n: dense.n,
    m: dense.m,
    scale: dense.s,
    bits: BITS,
  });
  const logitsT = tf.tidy(() => forward(exactConvT, exactDenseT));
  const exactKernel = Array.from(await exactConvT.data());
  const exactLogits = Array.from(await logitsT.data());
  tf.dispose([exactConvT, exactDenseT, logitsT, x, y, ...vars, ...velocity]);

  return {
    backend: tf.getBackend(),
    steps: log,
    finalVars,
    exactKernel,
    exactLogits,
    stepMs,
    leakedTensors: tf.memory().numTensors - before,
  };
}
