/**
 * The training worker: sets up the backend, loads the digits, builds the CSQ mnist-cnn and runs
 * @csq/trainer's `train()` (the loop everyone uses), posting per-batch and per-epoch numbers and
 * each layer's selected bits; at the end, the exact model as a .csqp file and predictions with it.
 */
import { BudgetRegularizer } from '@csq/budget';
import { CsqError, selectedPositions } from '@csq/core';
import {
  arraySource,
  type DataSplits,
  MNIST_MEAN,
  MNIST_STD,
  normalize,
  takeSource,
} from '@csq/data';
import { buildModel, CsqController } from '@csq/layers';
import {
  defaultPreprocess,
  evaluateAccuracy,
  type MetricsLine,
  type TrainResult,
  train,
} from '@csq/trainer';
import * as tf from '@tensorflow/tfjs';
import { pickBackend } from './backend.js';
import { fetchDigits } from './digits-format.js';
import { encodeExactModel, loadExactModel } from './exact-model.js';
import type { FromWorker, LayerBitsView, ToWorker } from './messages.js';
import { toTrainConfig } from './settings.js';
import { buildSummary, countParams } from './summary.js';

/** How often (in batches) the worker reads the masks for the bits chart. */
const BITS_EVERY = 4;
/**
 * Between epochs (where train() evaluates all held-out digits), soft and exact accuracy on the
 * first PROBE_DIGITS held-out digits every PROBE_EVERY batches: about 5% more work.
 */
const PROBE_EVERY = 16;
const PROBE_DIGITS = 256;

const post = (m: FromWorker, transfer: Transferable[] = []) =>
  (self as unknown as Worker).postMessage(m, transfer);

let paused: { resolve: () => void; promise: Promise<void> } | undefined;
const abort = new AbortController();
let exactModel: tf.LayersModel | undefined;
let running = false;

/**
 * Lets queued messages (pause, stop) in: on wasm and cpu the loop's awaits resolve as
 * microtasks, so without a macrotask turn the worker would never see them until the end.
 */
const channel = new MessageChannel();
const turns: (() => void)[] = [];
channel.port1.onmessage = () => turns.shift()?.();
function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => {
    turns.push(resolve);
    channel.port2.postMessage(0);
  });
}

async function layerBits(controller: CsqController): Promise<LayerBitsView[]> {
  const phase = controller.ticket || controller.exact ? 'exact' : 'continuous';
  const masks = await Promise.all(controller.layers.map((l) => l.maskVariable.read().data()));
  return controller.layers.map((l, i) => ({
    name: l.name,
    maxBits: l.bits,
    positions: selectedPositions(masks[i] as Float32Array, phase),
  }));
}

/** Reads every weight (asynchronously: GPU backends), then re-creates it on the cpu backend. */
async function moveToCpu(model: tf.LayersModel): Promise<void> {
  if (tf.getBackend() === 'cpu') return;
  const values = await Promise.all(model.weights.map((w) => w.read().data()));
  await tf.setBackend('cpu');
  model.weights.forEach((w, i) => {
    const t = tf.tensor(values[i] as Float32Array, w.shape as number[], w.dtype);
    w.write(t);
    t.dispose();
  });
}

async function run(msg: Extract<ToWorker, { type: 'start' }>): Promise<void> {
  const { settings } = msg;
  const started = performance.now();
  const backend = await pickBackend(settings.backend, msg.wasmBase);
  post({ type: 'backend', name: backend.name, message: backend.message, tried: backend.tried });
  const digits = await fetchDigits(msg.dataUrl);
  const data: DataSplits = {
    name: 'mnist',
    train: arraySource(digits.train),
    test: takeSource(arraySource(digits.test), settings.heldout),
    mean: MNIST_MEAN.slice(),
    std: MNIST_STD.slice(),
  };
  post({
    type: 'data',
    trainCount: digits.train.count,
    testCount: digits.test.count,
    usedTest: data.test.count,
    usedTrain: Math.min(settings.train, data.train.count),
  });
  const model = buildModel('mnist-cnn', { bits: settings.bits, seed: settings.seed, actBits: 0 });
  const controller = new CsqController(model);
  const config = toTrainConfig(settings);
  const live = new BudgetRegularizer(controller, {
    mode: settings.budget,
    targetBits: settings.targetBits,
    lambda: settings.lambda,
  });
  let step = 0;
  let last = performance.now();
  const sendBits = async () => {
    const stats = await live.refresh();
    post({
      type: 'bits',
      step,
      ratio: stats.ratio,
      targetRatio: stats.targetRatio,
      avgBitsSlots: stats.avgBitsSlots,
      layers: await layerBits(controller),
    });
  };
  const preprocess = defaultPreprocess(
    { augment: { cropPad: 0, flip: false } },
    data.mean,
    data.std,
  );
  const probe = async () => {
    const opts = { batchSize: PROBE_DIGITS, preprocess, limit: PROBE_DIGITS };
    const soft = await evaluateAccuracy(model, data.test, opts);
    const wasExact = controller.exact;
    controller.setExact(true);
    try {
      const exact = await evaluateAccuracy(model, data.test, opts);
      post({ type: 'probe', step, digits: Math.min(PROBE_DIGITS, data.test.count), soft, exact });
    } finally {
      controller.setExact(wasExact);
    }
  };
  const trainStarted = performance.now();
  const result: TrainResult = await train({
    model,
    data,
    config,
    signal: abort.signal,
    log: (message) => post({ type: 'log', message }),
    callbacks: {
      onTrainBegin: async ({ epochs, batchesPerEpoch }) => {
        post({ type: 'begin', epochs, batchesPerEpoch });
        await sendBits();
      },
      onBatchEnd: async (logs) => {
        step++;
        const now = performance.now();
        post({
          type: 'batch',
          step,
          epoch: logs.epoch,
          batch: logs.batch,
          loss: logs.loss,
          accuracy: logs.accuracy,
          beta: controller.beta,
          ms: now - last,
        });
        last = now;
        const lastOfEpoch = logs.batch === logs.batches - 1;
        if (step % BITS_EVERY === 0 || lastOfEpoch) await sendBits();
        if (step % PROBE_EVERY === 0 && !lastOfEpoch) await probe();
        await yieldToEvents();
        if (paused) {
          post({ type: 'paused' });
          await paused.promise;
          post({ type: 'resumed' });
          last = performance.now();
        }
      },
      onEpochEnd: (line: MetricsLine) => {
        post({
          type: 'epoch',
          step,
          epoch: line.epoch,
          loss: line.loss,
          trainAccuracy: line.trainAccuracy,
          softAccuracy: line.softAccuracy ?? Number.NaN,
          exactAccuracy: line.exactAccuracy ?? null,
          beta: line.beta ?? controller.beta,
          ratio: line.R ?? Number.NaN,
          targetRatio: line.targetR ?? Number.NaN,
          seconds: line.seconds,
        });
      },
    },
  });
  const trainMs = performance.now() - trainStarted;
  controller.setExact(true);
  const finalLayers = await layerBits(controller);
  controller.setExact(false);
  await moveToCpu(model);
  const csqp = await encodeExactModel(model, { settings });
  exactModel = await loadExactModel(csqp);
  const summary = buildSummary({
    backend: backend.name,
    epochs: result.history.length,
    softAccuracy: result.softAccuracy,
    exactAccuracy: result.exactAccuracy,
    report: result.report!,
    floatParams: countParams(exactModel),
    wallSeconds: (performance.now() - started) / 1000,
    bits: settings.bits,
    finalBeta: controller.beta,
  });
  post({ type: 'done', stopped: result.stopped, summary, layers: finalLayers, csqp, trainMs }, [
    csqp.buffer,
  ]);
}

function predict(msg: Extract<ToWorker, { type: 'predict' }>): void {
  if (!exactModel) {
    throw new CsqError(
      'CSQ_PLAYGROUND_NO_MODEL',
      'there is no exact model yet: train (or stop a run) first, then draw a digit.',
    );
  }
  const x = normalize(msg.pixels, MNIST_MEAN, MNIST_STD);
  const logits = tf.tidy(() => {
    const out = exactModel!.predict(tf.tensor4d(x, [msg.count, 28, 28, 1])) as tf.Tensor;
    return out.arraySync() as number[][];
  });
  post({ type: 'prediction', id: msg.id, logits });
}

function report(e: unknown): void {
  const code = (e as { code?: unknown }).code;
  post({
    type: 'error',
    code: typeof code === 'string' ? code : 'CSQ_PLAYGROUND_FAILED',
    message: e instanceof Error ? e.message : String(e),
  });
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const msg = event.data;
  switch (msg.type) {
    case 'start':
      if (running) return;
      running = true;
      run(msg).catch(report);
      break;
    case 'pause':
      if (!paused) {
        let resolve = () => {};
        const promise = new Promise<void>((r) => {
          resolve = r;
        });
        paused = { resolve, promise };
      }
      break;
    case 'resume':
      paused?.resolve();
      paused = undefined;
      break;
    case 'stop':
      abort.abort();
      paused?.resolve();
      paused = undefined;
      break;
    case 'predict':
      try {
        predict(msg);
      } catch (e) {
        report(e);
      }
      break;
  }
};
