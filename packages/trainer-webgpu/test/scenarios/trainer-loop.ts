/**
 * The real @csq/trainer loop (`train`) on a tiny CSQ model, on whatever backend is active.
 * Browser-safe: universal entries only (no run directory, the loop's in-memory store).
 *
 *   x [4, 8, 8, 1] -> CsqConv2D 3x3, 4 filters (N = 4) -> BN -> ReLU -> GAP
 *   -> CsqDense 3 (N = 4) -> logits
 *
 * 8 training images (2 steps of batch 4 per epoch), 2 epochs: epoch 1 searches (soft masks,
 * budget term on: slots, target 2 bits, lambda 0.5), epoch 2 is the ticket phase (hard, frozen
 * masks, no budget term). Evaluation of the soft and the exact model every epoch on 8 test
 * images. Every number it returns is plain, so a page can send it back as JSON.
 */
import { arraySource, type ImageSource, normalize } from '@csq/data';
import { CsqController, CsqConv2D, CsqDense } from '@csq/layers';
import { type TrainConfigInput, type TrainOptions, type TrainResult, train } from '@csq/trainer';
import * as tf from '@tensorflow/tfjs';

/** Per-epoch numbers of the run (from the loop's metrics lines). */
export interface LoopEpoch {
  phase: string;
  beta: number;
  lr: number;
  loss: number;
  ce: number;
  penalty: number;
  trainAccuracy: number;
  softAccuracy: number;
  exactAccuracy: number;
  R: number;
  targetR: number;
  layerBits: Record<string, number>;
}

/** What one run of the loop reports. */
export interface LoopResult {
  backend: string;
  epochs: LoopEpoch[];
  /** [loss, ce, penalty] of every batch, in order (from onBatchEnd). */
  batchLosses: number[][];
  /** The loop's final accuracies (soft at the last temperature; exact Heaviside model). */
  softAccuracy: number;
  exactAccuracy: number;
  /** Every weight before and after training by name (bit planes, masks, scales, BN), flattened. */
  initialWeights: Record<string, number[]>;
  weights: Record<string, number[]>;
  /** Exact-model logits on the test images after training (inference mode). */
  exactLogits: number[];
  /** Masks after each epoch (must not move in the ticket epoch). */
  masksAtEpochEnd: number[][];
  /** Masks after each batch (the budget term counts bits from them: spec 3). */
  masksAtBatchEnd: number[][];
  /** tf.memory().numTensors at each batch end and each epoch end. */
  tensorsAtBatchEnd: number[];
  tensorsAtEpochEnd: number[];
  /** numTensors before the model was built, and after it and the run were disposed. */
  tensorsBefore: number;
  tensorsAfter: number;
  /** Wall time of the whole `train` call in ms (printed, never asserted). */
  trainMs: number;
}

/** The loop's config for this scenario. */
export const LOOP_CONFIG: TrainConfigInput = {
  epochs: 2,
  batchSize: 4,
  lr: 0.1,
  warmupEpochs: 0,
  seed: 5,
  evalBatchSize: 8,
  exactEval: 'epoch',
  // enforcement off: this loop compares backends step by step, and a trim at the ticket epoch
  // changes the masks once there (budget enforcement has its own tests in @csq/trainer)
  csq: {
    ticket: 1,
    finalTemp: 8,
    budget: { mode: 'slots', targetBits: 2, lambda: 0.5, enforce: 'off' },
  },
};

const SIZE = 8;
const CLASSES = 3;
/**
 * Initial mask logit of both layers. The authors' s0 = 0 puts every mask exactly on the
 * selection threshold (m >= 0 counts a bit), where this 4-step run leaves them within 1e-5 of
 * it, so R could flip on a rounding difference; 0.02 keeps every mask at least 1.5e-3 away
 * from 0 at every step (measured on cpu), while the budget term still pulls them down.
 */
const S0 = 0.02;
const TRAIN_IMAGES = 8;
const TEST_IMAGES = 8;

/** 8x8x1 images of 3 classes: a bright horizontal, vertical or diagonal bar, plus noise. */
export function barImages(count: number, seed: number): ImageSource {
  let s = seed >>> 0;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const images = new Uint8Array(count * SIZE * SIZE);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % CLASSES;
    labels[i] = label;
    const at = 1 + Math.floor(rand() * 6);
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const on = label === 0 ? y === at : label === 1 ? x === at : x === y;
        images[(i * SIZE + y) * SIZE + x] = Math.floor((on ? 200 : 20) + rand() * 50);
      }
    }
  }
  return arraySource({
    images,
    labels,
    count,
    height: SIZE,
    width: SIZE,
    channels: 1,
    numClasses: CLASSES,
  });
}

/** The tiny CSQ model (same seeds, so the same initial weights, on every backend). */
export function loopModel(): tf.LayersModel {
  const input = tf.input({ shape: [SIZE, SIZE, 1] });
  let x = new CsqConv2D({
    filters: 4,
    kernelSize: 3,
    padding: 'same',
    useBias: false,
    bits: 4,
    s0: S0,
    seed: 3,
    name: 'conv',
  }).apply(input) as tf.SymbolicTensor;
  x = tf.layers
    .batchNormalization({ momentum: 0.9, epsilon: 1e-5, name: 'bn' })
    .apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU({ name: 'relu' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
  const out = new CsqDense({ units: CLASSES, bits: 4, s0: S0, seed: 4, name: 'fc' }).apply(
    x,
  ) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

/** Every weight of `model` by name, flattened (asynchronous reads: fine on any backend). */
async function weightsOf(model: tf.LayersModel): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const w of model.weights) out[w.originalName] = Array.from(await w.read().data());
  return out;
}

/**
 * Runs `trainFn` (default: @csq/trainer's `train`, on the active backend) on the tiny model and
 * reports losses, budget numbers, weights, exact-model logits and tensor counts. The model is
 * disposed before it returns or throws.
 */
export async function trainerLoopScenario(
  opts: { trainFn?: (opts: TrainOptions) => Promise<TrainResult>; config?: TrainConfigInput } = {},
): Promise<LoopResult> {
  const tensorsBefore = tf.memory().numTensors;
  const model = loopModel();
  let run: Omit<LoopResult, 'tensorsBefore' | 'tensorsAfter'>;
  try {
    run = await trainTiny(model, opts.trainFn ?? train, opts.config ?? LOOP_CONFIG);
  } finally {
    model.dispose();
  }
  return { ...run, tensorsBefore, tensorsAfter: tf.memory().numTensors };
}

async function trainTiny(
  model: tf.LayersModel,
  trainFn: (opts: TrainOptions) => Promise<TrainResult>,
  config: TrainConfigInput,
): Promise<Omit<LoopResult, 'tensorsBefore' | 'tensorsAfter'>> {
  const controller = new CsqController(model);
  const data = {
    train: barImages(TRAIN_IMAGES, 1),
    test: barImages(TEST_IMAGES, 2),
    mean: [0.3],
    std: [0.3],
  };
  const masks = async () => {
    const out: number[] = [];
    for (const v of controller.maskVariables()) out.push(...(await v.read().data()));
    return out;
  };
  const initialWeights = await weightsOf(model);
  const batchLosses: number[][] = [];
  const tensorsAtBatchEnd: number[] = [];
  const tensorsAtEpochEnd: number[] = [];
  const masksAtEpochEnd: number[][] = [];
  const masksAtBatchEnd: number[][] = [];

  const t0 = performance.now();
  const result = await trainFn({
    model,
    data,
    config,
    callbacks: {
      onBatchEnd: async (l) => {
        batchLosses.push([l.loss, l.ce, l.penalty]);
        masksAtBatchEnd.push(await masks());
        tensorsAtBatchEnd.push(tf.memory().numTensors);
      },
      onEpochEnd: async () => {
        masksAtEpochEnd.push(await masks());
        tensorsAtEpochEnd.push(tf.memory().numTensors);
      },
    },
  });
  const trainMs = performance.now() - t0;
  const weights = await weightsOf(model);

  // The exact (Heaviside) model's logits on the test images, normalised as the loop does.
  const { images } = await data.test.read(Array.from({ length: data.test.count }, (_, i) => i));
  const x = tf.tensor4d(normalize(images, data.mean, data.std), [data.test.count, SIZE, SIZE, 1]);
  controller.setExact(true);
  const logitsT = model.predict(x) as tf.Tensor;
  controller.setExact(false);
  const exactLogits = Array.from(await logitsT.data());
  tf.dispose([x, logitsT]);

  return {
    backend: tf.getBackend(),
    epochs: result.history.map((l) => ({
      phase: l.phase,
      beta: l.beta!,
      lr: l.lr,
      loss: l.loss,
      ce: l.ce,
      penalty: l.penalty!,
      trainAccuracy: l.trainAccuracy,
      softAccuracy: l.softAccuracy!,
      exactAccuracy: l.exactAccuracy!,
      R: l.R!,
      targetR: l.targetR!,
      layerBits: l.layerBits!,
    })),
    batchLosses,
    softAccuracy: result.softAccuracy,
    exactAccuracy: result.exactAccuracy,
    initialWeights,
    weights,
    exactLogits,
    masksAtEpochEnd,
    masksAtBatchEnd,
    tensorsAtBatchEnd,
    tensorsAtEpochEnd,
    trainMs,
  };
}

/** Both runs of the loop, or the cpu run and why the WebGPU run could not happen. */
export type LoopPair =
  | { cpu: LoopResult; webgpu: LoopResult; blocked?: undefined }
  | {
      cpu: LoopResult;
      webgpu?: undefined;
      blocked: { code: string; message: string; where?: string };
    };

/**
 * The loop on cpu (`train`), then `switchToWebGpu()`, then on WebGPU with `trainOnWebGpu`. A
 * CsqError CSQ_WEBGPU_SYNC_READ from the WebGPU run (something in the loop read GPU data
 * synchronously where that cannot work) comes back as `blocked`; anything else is thrown.
 */
export async function loopOnCpuAndWebGpu(
  switchToWebGpu: () => Promise<unknown>,
  trainOnWebGpu: (opts: TrainOptions) => Promise<TrainResult>,
): Promise<LoopPair> {
  if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend did not start');
  const cpu = await trainerLoopScenario();
  await switchToWebGpu();
  const active = tf.getBackend();
  if (active !== 'webgpu') throw new Error(`expected the webgpu backend, got ${active}`);
  try {
    const webgpu = await trainerLoopScenario({ trainFn: trainOnWebGpu });
    return { cpu, webgpu };
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code !== 'CSQ_WEBGPU_SYNC_READ') throw e;
    const err = e as Error;
    // The first frame in another @csq package: what read synchronously (Node paths only).
    const where = (err.stack ?? '')
      .split('\n')
      .find((l) => /\/packages\/(?!trainer-webgpu\/)[^/]+\/src\//.test(l))
      ?.trim();
    return { cpu, blocked: { code, message: err.message, ...(where ? { where } : {}) } };
  }
}
