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
 */
import { expectClose } from '@csq/test-utils';
import { expect } from 'vitest';
import type { OpResults } from '../scenarios/core-ops.js';
import type { TinyTrainResult } from '../scenarios/tiny-train.js';

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
