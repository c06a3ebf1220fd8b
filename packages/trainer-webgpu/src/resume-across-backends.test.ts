import { arraySource, type ImageSource } from '@csq/data';
import { CsqDense } from '@csq/layers';
import { expectClose, useBackend } from '@csq/test-utils';
import { MemoryRunStore, type TrainConfigInput, type TrainResult, train } from '@csq/trainer';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { probeNodeWebGpu } from '../test/harness/node-webgpu.js';
import { skipReason } from '../test/harness/skip.js';
import { WEBGPU_BACKEND } from './node.js';

// A checkpoint holds plain float32 values and the loop's position, nothing of the backend: a run
// stopped on one backend continues on another. Tiny on purpose (SwiftShader is slow): dense
// CSQ layers only (wasm trains conv nets only with @csq/trainer-node's kernels), 3 epochs of
// 3 batches, stopped in the middle of epoch 2.
const probe = await probeNodeWebGpu({ setBackend: false });
const skip = skipReason('resume across wasm and WebGPU', probe.reason);

function bars(count: number, seed: number): ImageSource {
  let s = seed >>> 0;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const images = new Uint8Array(count * 16);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = i % 3;
    const at = Math.floor(rand() * 4);
    for (let p = 0; p < 16; p++) {
      const [y, x] = [Math.floor(p / 4), p % 4];
      const on = i % 3 === 0 ? y === at : i % 3 === 1 ? x === at : x === y;
      images[i * 16 + p] = Math.floor((on ? 200 : 20) + rand() * 50);
    }
  }
  return arraySource({ images, labels, count, height: 4, width: 4, channels: 1, numClasses: 3 });
}

const data = () => ({ train: bars(12, 1), test: bars(6, 2), mean: [0.3], std: [0.3] });
const config: TrainConfigInput = {
  epochs: 3,
  batchSize: 4,
  lr: 0.1,
  warmupEpochs: 0,
  seed: 7,
  exactEval: 'epoch',
  // enforcement off: the trim at the ticket epoch picks the lowest mask logits, and a near tie
  // can fall either way on another backend (budget enforcement has its own tests in @csq/trainer)
  csq: { ticket: 1, budget: { mode: 'slots', targetBits: 2, lambda: 0.2, enforce: 'off' } },
};

function model(seed: number): tf.LayersModel {
  const input = tf.input({ shape: [4, 4, 1] });
  const flat = tf.layers.flatten().apply(input) as tf.SymbolicTensor;
  const hidden = new CsqDense({ units: 6, bits: 4, seed, name: 'fc1' }).apply(flat);
  const relu = tf.layers.reLU().apply(hidden) as tf.SymbolicTensor;
  const out = new CsqDense({ units: 3, bits: 4, seed: seed + 1, name: 'fc2' }).apply(relu);
  return tf.model({ inputs: input, outputs: out as tf.SymbolicTensor });
}

async function weights(m: tf.LayersModel): Promise<number[]> {
  const out: number[] = [];
  for (const w of m.weights) out.push(...((await w.read().data()) as Float32Array));
  return out;
}

/** Trains on `first` until the 2nd batch of epoch 2, then resumes the run on `second`. */
async function switchMidRun(first: string, second: string) {
  const store = new MemoryRunStore();
  const abort = new AbortController();
  await useBackend(first);
  const a = model(1);
  const stopped = await train({
    model: a,
    data: data(),
    config,
    store,
    signal: abort.signal,
    callbacks: { onBatchEnd: (l) => void (l.epoch === 2 && l.batch === 1 && abort.abort()) },
  });
  a.dispose();
  await useBackend(second);
  const b = model(99); // another init: the checkpoint must overwrite it
  const resumed = await train({ model: b, data: data(), config, store, resume: true });
  const w = await weights(b);
  b.dispose();
  return { stopped, resumed, weights: w };
}

function expectSameRun(actual: TrainResult, expected: TrainResult, what: string): void {
  expect(
    actual.history.map((l) => l.epoch),
    what,
  ).toEqual(expected.history.map((l) => l.epoch));
  expectClose(
    actual.history.map((l) => l.loss),
    expected.history.map((l) => l.loss),
    1e-4,
  );
  expect(
    actual.history.map((l) => l.softAccuracy),
    what,
  ).toEqual(expected.history.map((l) => l.softAccuracy));
  expect(actual.exactAccuracy).toBe(expected.exactAccuracy);
  expect(actual.report?.layers.map((l) => l.bits)).toEqual(
    expected.report?.layers.map((l) => l.bits),
  );
}

describe.skipIf(skip !== undefined)('a run stopped on one backend resumes on another', () => {
  afterAll(() => probe.session?.dispose());

  it('wasm -> WebGPU and WebGPU -> wasm end where an uninterrupted wasm run ends', async () => {
    await useBackend('wasm');
    const refModel = model(1);
    const ref = await train({ model: refModel, data: data(), config, store: new MemoryRunStore() });
    const refWeights = await weights(refModel);
    refModel.dispose();
    expect(ref.history).toHaveLength(3);

    for (const [first, second] of [
      ['wasm', WEBGPU_BACKEND],
      [WEBGPU_BACKEND, 'wasm'],
    ] as const) {
      const run = await switchMidRun(first, second);
      expect(run.stopped.stopped, `${first} run stopped`).toBe(true);
      expect(run.stopped.history).toHaveLength(2);
      expect(run.resumed.stopped).toBe(false);
      expectSameRun(run.resumed, ref, `${first} -> ${second}`);
      expectClose(run.weights, refWeights, 1e-4); // the final weights
    }
  }, 240_000);
});
