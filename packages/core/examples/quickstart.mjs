// A runnable tour of the CSQ math of @csq/core (spec sections 1 to 3), on a random layer.
// Run from the repo root: pnpm quickstart

import {
  betaForEpoch,
  budgetStats,
  exactCodes,
  exactWeight,
  initBitPlanes,
  initMask,
  quantizeUniform,
  softWeight,
  softWeightTensor,
} from '@csq/core';
import * as tf from '@tensorflow/tfjs';

await tf.setBackend('cpu');
const bits = 8;
const w = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i * 12.9898) * 0.5);
const { p, n, scale } = initBitPlanes(w, bits);
console.log(`layer of ${w.length} weights, N = ${bits}, scale s = max|w| = ${scale.toFixed(4)}`);

// The exact weight with every bit selected is the 8-bit quantisation of w.
const all = new Float32Array(bits).fill(1);
const exact = exactWeight({ p, n, m: all, scale, bits });
const q = quantizeUniform(w, bits);
console.log(
  `exact(all bits) == 8-bit quantisation: ${exact.every((v, i) => Math.abs(v - q[i]) < 1e-6)}`,
);

// Soft weight at the start (m = 0, beta = 1): about 0.1155 x the quantised weight.
const soft = softWeight({ p, n, m: initMask(bits), scale, beta: 1, bits });
console.log(`soft/quantised at beta 1: ${(soft[1] / q[1]).toFixed(4)}`);

// The same formula as a differentiable tensor function.
const t = softWeightTensor({
  p: tf.tensor(p, [w.length, bits]),
  n: tf.tensor(n, [w.length, bits]),
  m: tf.tensor1d(initMask(bits)),
  scale: tf.scalar(scale),
  beta: 1,
  bits,
});
console.log(
  `tensor soft weight[1] = ${t.dataSync()[1].toFixed(6)} (reference ${soft[1].toFixed(6)})`,
);

// Prune the 4 least significant bits: the layer now stores 4-bit integer codes.
const m = Float32Array.from([1, 1, 1, 1, -1, -1, -1, -1]);
const { codes, positions } = exactCodes({ p, n, m, bits });
console.log(
  `selected positions ${positions.join(',')}; first codes ${Array.from(codes.slice(0, 6)).join(', ')}`,
);

// Temperature and budget.
console.log(
  `beta at epochs 0, 5, 10 with ticket 10: ${[0, 5, 10].map((e) => betaForEpoch(e, { ticket: 10 }).toFixed(2)).join(', ')}`,
);
const stats = budgetStats(
  [
    { name: 'conv1', maxBits: 8, bits: 4, params: 432 },
    { name: 'conv2', maxBits: 8, bits: 2, params: 4608 },
  ],
  { mode: 'slots', targetBits: 2 },
);
console.log(
  `budget: R = ${stats.ratio.toFixed(3)}, R_T = ${stats.targetRatio}, coefficient ${stats.coefficient.toFixed(3)} ` +
    `(> 0: prune), avg bits ${stats.avgBitsSlots} (slots) / ${stats.avgBitsParams.toFixed(2)} (params), ` +
    `compression ${stats.compressionRatio.toFixed(1)}x`,
);
