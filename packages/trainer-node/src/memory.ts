/**
 * Training memory: an estimate made before the first step (weights, gradients and momentum of
 * every trainable value, CSQ's bit planes included, plus the activations a step keeps for
 * backprop, per sample times the batch), checked against the wasm heap's 4 GiB ceiling; and a
 * wasm abort in a step turned into a CsqError that says what to do.
 */
import { CsqError } from '@csq/core';
import type * as tfl from '@tensorflow/tfjs-layers';

/** The most a wasm32 heap can hold. */
export const WASM_HEAP_LIMIT = 4 * 1024 ** 3;

/** An estimate of one training step's memory. */
export interface MemoryEstimate {
  /** Trainable values (CSQ: every bit plane and mask value) and the other weights. */
  trainable: number;
  nonTrainable: number;
  /** Layer output values per sample (what the forward pass produces). */
  activationsPerSample: number;
  batch: number;
  /** Estimated peak bytes of a training step. */
  bytes: number;
}

/**
 * Bytes kept per activation value in a step: the layer output, what its gradient op saved (conv
 * input, batch-norm normalized values, the activation quantizer's input) and the gradient
 * flowing back. Fitted to measured wasm heap growth (see memory.test.ts and the closing note).
 */
export const ACTIVATION_BYTES = 16;
/**
 * Bytes per trainable value: weight, gradient, momentum, the soft weights CSQ derives from its
 * planes and their gradients (fitted as ACTIVATION_BYTES).
 */
export const TRAINABLE_BYTES = 28;

const size = (shape: readonly (number | null)[]) => shape.reduce<number>((a, b) => a * (b ?? 1), 1);

/** Estimates a training step's memory for `model` at `batch`, from shapes only (no tensors). */
export function estimateTrainingMemory(model: tfl.LayersModel, batch: number): MemoryEstimate {
  let trainable = 0;
  for (const w of model.trainableWeights) trainable += size(w.shape);
  let nonTrainable = 0;
  for (const w of model.nonTrainableWeights) nonTrainable += size(w.shape);
  let activationsPerSample = 0;
  const visit = (layer: tfl.layers.Layer) => {
    const inner = (layer as unknown as { layers?: tfl.layers.Layer[] }).layers;
    if (Array.isArray(inner)) return inner.forEach(visit);
    if (layer.getClassName() === 'InputLayer') return;
    const out = layer.outputShape as (number | null)[] | (number | null)[][];
    const shapes = Array.isArray(out[0])
      ? (out as (number | null)[][])
      : [out as (number | null)[]];
    for (const s of shapes) activationsPerSample += size(s.slice(1));
  };
  model.layers.forEach(visit);
  const bytes =
    TRAINABLE_BYTES * trainable +
    4 * nonTrainable +
    ACTIVATION_BYTES * activationsPerSample * batch;
  return { trainable, nonTrainable, activationsPerSample, batch, bytes };
}

const gib = (b: number) => `${(b / 1024 ** 3).toFixed(2)} GiB`;

/** The ways out of a step that does not fit. */
function advice(e: MemoryEstimate): string {
  const fit = Math.floor(
    (0.8 * WASM_HEAP_LIMIT - TRAINABLE_BYTES * e.trainable - 4 * e.nonTrainable) /
      (ACTIVATION_BYTES * Math.max(1, e.activationsPerSample)),
  );
  const batch =
    fit >= 1
      ? `a smaller --batch (about ${fit} or less fits)`
      : 'a smaller --batch will not be enough: the weights alone do not fit';
  return (
    `Ways out: ${batch}; a smaller --width-multiplier (0.5 needs about a quarter of the weights); ` +
    'the tfjs-node backend (npm install @tensorflow/tfjs-node; no 4 GiB ceiling); or WebGPU (--backend webgpu on a GPU, or in a browser).'
  );
}

/** Throws CSQ_OUT_OF_MEMORY when the estimate is past the wasm heap ceiling. */
export function checkWasmMemory(e: MemoryEstimate): void {
  if (e.bytes <= WASM_HEAP_LIMIT) return;
  throw new CsqError(
    'CSQ_OUT_OF_MEMORY',
    `a training step needs about ${gib(e.bytes)} (${(e.trainable / 1e6).toFixed(1)} M trainable values, ` +
      `${(e.activationsPerSample / 1e6).toFixed(2)} M activation values per sample x batch ${e.batch}); ` +
      `the wasm backend's heap stops at 4 GiB. ${advice(e)}`,
  );
}

/** True for the errors a wasm heap that ran out produces. */
export function isWasmAbort(e: unknown): boolean {
  const m = e instanceof Error ? `${e.name} ${e.message}` : String(e);
  return /memory access out of bounds|Aborted\(|out of memory|Cannot enlarge memory|RuntimeError: unreachable/i.test(
    m,
  );
}

/**
 * Runs `fn` (the training) on `backend`; on wasm, first checks the estimate, and turns a wasm
 * abort into CSQ_OUT_OF_MEMORY with the estimate and the ways out.
 */
export async function guardMemory<T>(
  fn: () => Promise<T>,
  ctx: { model: tfl.LayersModel; batch: number; backend: string },
): Promise<T> {
  if (ctx.backend !== 'wasm') return fn();
  const estimate = estimateTrainingMemory(ctx.model, ctx.batch);
  checkWasmMemory(estimate);
  try {
    return await fn();
  } catch (e) {
    if (e instanceof CsqError || !isWasmAbort(e)) throw e;
    throw new CsqError(
      'CSQ_OUT_OF_MEMORY',
      `the wasm backend ran out of memory in a training step (${(e as Error).message.split('\n')[0]}); ` +
        `estimated need ${gib(estimate.bytes)} at batch ${ctx.batch}. ${advice(estimate)}`,
    );
  }
}
