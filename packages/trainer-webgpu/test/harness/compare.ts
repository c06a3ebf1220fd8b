/**
 * WebGPU-versus-cpu agreement checks, with the tolerance they use and why.
 *
 * Both backends compute in float32 with the same formulas; they differ only in summation order
 * (GPU reductions and matmuls are tiled) and in the accuracy of exp/log (WGSL allows a few ulp
 * plus a term growing with |x|). Measured on SwiftShader (Node and Chromium) the worst
 * difference is 4.6e-7 absolute (a hard-mask bit-plane gradient at beta = 23, where the
 * sigmoid slope multiplies rounding errors by 23) and 1.2e-7 on the losses; weights after
 * 4 steps differ by at most 1.1e-6 relative. The tolerance, |a - b| <= 1e-5 + 1e-4 |b|, is 20x
 * above that and far below any real fault: a missing gradient term, a sign error, a wrong
 * rounding or a flipped activation level moves values of size 0.1 to 1 by 1e-2 or more.
 *
 * The same tolerance holds for @csq/trainer's own loop (`train()` on the tiny model of
 * scenarios/trainer-loop.ts: conv 3x3x1x4 and dense 4x3 with 4 bit planes, BN in training mode
 * over batches of 4, GAP, 2 epochs of 2 steps, the second in the ticket phase): measured on
 * SwiftShader in Node and in Chromium, the worst difference over the losses of every batch and
 * epoch, every weight after training (bit planes, masks, scales, BN statistics), the masks after
 * every step and the exact-model logits is 1.2e-7 absolute (a batch loss of size 1.1) and
 * 1.6e-6 relative, 0.1% of the tolerance. Its discrete decisions are far from any threshold:
 * every mask logit stays at least 1.5e-3 from 0, where a selected bit flips (so R and the bits
 * per layer match exactly), and the top two exact-model logits of every test image are 0.63
 * apart (so the accuracies match exactly).
 */
import { expectClose } from '@csq/test-utils';
import { expect } from 'vitest';
import type { OpResults } from '../scenarios/core-ops.js';
import type { TinyTrainResult } from '../scenarios/tiny-train.js';
import type { LoopResult } from '../scenarios/trainer-loop.js';

/** The agreement tolerance of every WebGPU-versus-cpu check (see the file comment). */
export const WEBGPU_TOL = { rtol: 1e-4, atol: 1e-5 } as const;

/** Every named forward value and gradient agrees (same keys, same sizes, within tolerance). */
export function expectOpsAgree(actual: OpResults, expected: OpResults, label = ''): void {
  expect(Object.keys(actual).sort(), `${label} op names`).toEqual(Object.keys(expected).sort());
  for (const [name, want] of Object.entries(expected)) {
    expect(want.length, `${label} ${name} is empty`).toBeGreaterThan(0);
    try {
      expectClose(actual[name]!, want, WEBGPU_TOL);
    } catch (e) {
      throw new Error(`${label} ${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

/**
 * Two tiny training runs agree: the same schedule (beta, ticket, selected bits, coefficient),
 * losses and final weights within tolerance, the same exact kernel and exact-model logits.
 */
export function expectTrainingAgrees(
  actual: TinyTrainResult,
  expected: TinyTrainResult,
  label = '',
): void {
  expect(actual.steps.length, `${label} steps`).toBe(expected.steps.length);
  actual.steps.forEach((s, i) => {
    const e = expected.steps[i]!;
    expect({ beta: s.beta, ticket: s.ticket, bits: s.bits }, `${label} step ${i}`).toEqual({
      beta: e.beta,
      ticket: e.ticket,
      bits: e.bits,
    });
    expectClose(
      [s.loss, s.ce, s.penalty, s.coefficient],
      [e.loss, e.ce, e.penalty, e.coefficient],
      WEBGPU_TOL,
    );
  });
  expect(Object.keys(actual.finalVars), `${label} variables`).toEqual(
    Object.keys(expected.finalVars),
  );
  for (const [name, want] of Object.entries(expected.finalVars)) {
    try {
      expectClose(actual.finalVars[name]!, want, WEBGPU_TOL);
    } catch (e) {
      throw new Error(`${label} ${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  expectClose(actual.exactKernel, expected.exactKernel, WEBGPU_TOL);
  expectClose(actual.exactLogits, expected.exactLogits, WEBGPU_TOL);
}

/** The run really trained: finite losses, weights that moved, no leaked tensors. */
export function expectRealTraining(run: TinyTrainResult): void {
  for (const s of run.steps) expect(Number.isFinite(s.loss), 'finite loss').toBe(true);
  const first = run.steps[0]!.ce;
  const last = run.steps[run.steps.length - 1]!.ce;
  expect(last, 'cross-entropy decreased').toBeLessThan(first);
  expect(run.leakedTensors, 'leaked tensors').toBe(0);
}

/** The largest |a - b| and |a - b| / |b| over two equally long lists, and where. */
export interface WorstDifference {
  abs: number;
  rel: number;
  where: string;
  /** max |a - b| / (atol + rtol |b|) under WEBGPU_TOL: 1 would be exactly at the tolerance. */
  ofTolerance: number;
}

/** Tracks the worst difference over named lists (printed by the tests, never asserted on). */
export class DifferenceMeter {
  readonly worst: WorstDifference = { abs: 0, rel: 0, where: '', ofTolerance: 0 };
  add(name: string, actual: ArrayLike<number>, expected: ArrayLike<number>): void {
    for (let i = 0; i < expected.length; i++) {
      const d = Math.abs(actual[i]! - expected[i]!);
      const e = Math.abs(expected[i]!);
      if (e > 1e-3) this.worst.rel = Math.max(this.worst.rel, d / e);
      const used = d / (WEBGPU_TOL.atol + WEBGPU_TOL.rtol * e);
      if (used > this.worst.ofTolerance) {
        Object.assign(this.worst, { ofTolerance: used, abs: Math.max(this.worst.abs, d) });
        this.worst.where = `${name}[${i}]`;
      } else this.worst.abs = Math.max(this.worst.abs, d);
    }
  }
}

/** Mask logits of a loop run's weights (their names end in "mask"), in model order. */
function maskNames(run: LoopResult): string[] {
  return Object.keys(run.weights).filter((n) => /mask$/.test(n));
}

/**
 * One run of the tiny loop (test/scenarios/trainer-loop.ts) did what the loop promises: the
 * epoch-1 search with the budget term, the epoch-2 ticket phase with frozen masks and no budget
 * term, every weight trained, and memory flat from batch to batch and epoch to epoch.
 */
export function expectLoopSane(run: LoopResult, label = ''): void {
  expect(
    run.epochs.map((e) => [e.phase, e.beta]),
    `${label} schedule`,
  ).toEqual([
    ['search', 1],
    ['ticket', 8],
  ]);
  expect(run.batchLosses, `${label} batches`).toHaveLength(4);
  for (const b of run.batchLosses) expect(b.every(Number.isFinite), `${label} finite`).toBe(true);
  // spec 3: the budget term is on while searching (4-bit layers above the 2-bit target), off
  // in the ticket phase
  for (const b of run.batchLosses.slice(0, 2)) expect(b[2], `${label} penalty`).toBeGreaterThan(0);
  for (const b of run.batchLosses.slice(2)) expect(b[2], `${label} ticket penalty`).toBe(0);
  // masks move while searching, not at all in the ticket phase (spec 2)
  const masks = maskNames(run);
  expect(masks.length, `${label} mask weights`).toBe(2);
  const initialMasks = masks.flatMap((n) => run.initialWeights[n]!);
  expect(run.masksAtBatchEnd[0], `${label} masks after step 1`).not.toEqual(initialMasks);
  expect(run.masksAtBatchEnd[1], `${label} masks after step 2`).not.toEqual(run.masksAtBatchEnd[0]);
  expect(run.masksAtBatchEnd[2], `${label} ticket step 1`).toEqual(run.masksAtEpochEnd[0]);
  expect(run.masksAtBatchEnd[3], `${label} ticket step 2`).toEqual(run.masksAtEpochEnd[0]);
  expect(run.masksAtEpochEnd[1], `${label} masks after the ticket epoch`).toEqual(
    run.masksAtEpochEnd[0],
  );
  // every bit plane, scale and BN weight moved
  for (const [name, after] of Object.entries(run.weights)) {
    expect(after, `${label} ${name} trained`).not.toEqual(run.initialWeights[name]);
  }
  // no tensor leaks from batch to batch, epoch to epoch, or out of the run
  expect(new Set(run.tensorsAtBatchEnd).size, `${label} tensors per batch`).toBe(1);
  expect(run.tensorsAtEpochEnd, `${label} tensors per epoch`).toEqual([
    run.tensorsAtBatchEnd[0],
    run.tensorsAtBatchEnd[0],
  ]);
  expect(run.tensorsAfter, `${label} tensors left after the run`).toBe(run.tensorsBefore);
}

/**
 * Two runs of the tiny loop agree: the same schedule, budget decisions (R, bits per layer) and
 * accuracies, and losses, every weight, the masks after every step and the exact-model logits
 * within WEBGPU_TOL. Returns the worst difference seen.
 */
export function expectLoopAgrees(
  actual: LoopResult,
  expected: LoopResult,
  label = '',
): WorstDifference {
  const meter = new DifferenceMeter();
  const close = (name: string, a: ArrayLike<number>, e: ArrayLike<number>) => {
    meter.add(name, a, e);
    try {
      expectClose(a, e, WEBGPU_TOL);
    } catch (err) {
      throw new Error(`${label} ${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const discrete = (r: LoopResult) =>
    r.epochs.map((e) => ({
      phase: e.phase,
      beta: e.beta,
      lr: e.lr,
      R: e.R,
      targetR: e.targetR,
      layerBits: e.layerBits,
      accuracy: [e.trainAccuracy, e.softAccuracy, e.exactAccuracy],
    }));
  expect(discrete(actual), `${label} schedule, budget and accuracies`).toEqual(discrete(expected));
  expect([actual.softAccuracy, actual.exactAccuracy]).toEqual([
    expected.softAccuracy,
    expected.exactAccuracy,
  ]);
  close(
    'epoch loss/ce/penalty',
    actual.epochs.flatMap((e) => [e.loss, e.ce, e.penalty]),
    expected.epochs.flatMap((e) => [e.loss, e.ce, e.penalty]),
  );
  close('batch loss/ce/penalty', actual.batchLosses.flat(), expected.batchLosses.flat());
  expect(Object.keys(actual.weights), `${label} weight names`).toEqual(
    Object.keys(expected.weights),
  );
  for (const [name, want] of Object.entries(expected.initialWeights)) {
    expect(actual.initialWeights[name], `${label} initial ${name}`).toEqual(want);
  }
  for (const [name, want] of Object.entries(expected.weights)) {
    close(name, actual.weights[name]!, want);
  }
  close('masks after each step', actual.masksAtBatchEnd.flat(), expected.masksAtBatchEnd.flat());
  close('exact-model logits', actual.exactLogits, expected.exactLogits);
  return meter.worst;
}

/** Smallest distance of a mask logit from the selection threshold 0 after any step. */
export function maskMargin(run: LoopResult): number {
  return Math.min(...run.masksAtBatchEnd.flat().map(Math.abs));
}

/** Smallest gap between the two largest exact-model logits of any test image. */
export function logitMargin(run: LoopResult, classes = 3): number {
  let gap = Number.POSITIVE_INFINITY;
  for (let i = 0; i < run.exactLogits.length; i += classes) {
    const row = run.exactLogits.slice(i, i + classes).sort((a, b) => b - a);
    gap = Math.min(gap, row[0]! - row[1]!);
  }
  return gap;
}
