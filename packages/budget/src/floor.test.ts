/**
 * Issue 14.2 on real digits: a search pushed hard toward a low target collapses a layer to
 * 0 bits (a dead network) without per-layer floors, and keeps every layer at >= 1 bit with the
 * default floor.
 */
import { betaForEpoch } from '@csq/core';
import { loadMnistEmbedded, normalize } from '@csq/data/node';
import { CsqDense } from '@csq/layers';
import { useBackend } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BudgetRegularizer } from './budget-regularizer.js';

async function digits(n: number) {
  const data = loadMnistEmbedded();
  const { images, labels } = await data.train.read(Array.from({ length: n }, (_, i) => i));
  const x = tf.tensor2d(normalize(images, data.mean, data.std), [n, 784]);
  return { x, y: tf.oneHot(tf.tensor1d(labels, 'int32'), 10) };
}

function net() {
  return tf.sequential({
    layers: [
      new CsqDense({
        name: 'd1',
        units: 32,
        bits: 4,
        activation: 'relu',
        inputShape: [784],
        seed: 1,
      }),
      new CsqDense({ name: 'd2', units: 16, bits: 4, activation: 'relu', seed: 2 }),
      new CsqDense({ name: 'd3', units: 10, bits: 4, seed: 3 }),
    ],
  });
}

async function search(layers?: Record<string, { minBits?: number }>) {
  const { x, y } = await digits(1024);
  const m = net();
  const budget = new BudgetRegularizer(m, {
    targetBits: 1,
    lambda: 0.5,
    ...(layers ? { layers } : {}),
  });
  m.compile({ optimizer: tf.train.momentum(0.1, 0.9), loss: tf.losses.softmaxCrossEntropy });
  await m.fit(x, y, {
    epochs: 4,
    batchSize: 64,
    shuffle: false,
    verbose: 0,
    callbacks: [
      budget.callback({
        beta: (e) => betaForEpoch(e, { ticket: 3 }),
        ticketEpoch: 3,
        onWarning: () => {},
      }),
    ],
  });
  return budget.controller.layerBits('exact');
}

describe('per-layer floors on a real search (MNIST digits)', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('without floors a layer collapses to 0 bits; the default floor keeps 1', {
    timeout: 300_000,
  }, async () => {
    const free = await search({ d1: { minBits: 0 }, d2: { minBits: 0 }, d3: { minBits: 0 } });
    const floored = await search();
    console.info(`minBits 0: ${JSON.stringify(free)}; default floor: ${JSON.stringify(floored)}`);
    expect(Math.min(...Object.values(free))).toBe(0);
    expect(Math.min(...Object.values(floored))).toBeGreaterThanOrEqual(1);
  });
});
