/**
 * The trim on a budget's masks (used by the callback and by `trimToBudget`): @csq/core
 * `planTrim` over the counted layers, written back to the mask variables.
 */
import {
  type BitBounds,
  type BudgetMode,
  type BudgetStats,
  digitGram,
  planTrim,
  type TrimAction,
} from '@csq/core';
import type { CsqPhase, CsqQuantLayer } from '@csq/layers';
import * as tf from '@tensorflow/tfjs-core';
import { inputActBits } from './budget-options.js';

/** What the trim needs of a BudgetRegularizer. */
export interface TrimTarget {
  readonly layers: CsqQuantLayer[];
  readonly bounds: Required<BitBounds>[];
  readonly mode: BudgetMode;
  readonly targetBits: number;
  maskLogits(): Float32Array[];
  invalidate(): void;
}

/** What `trimToBudget` did: target, where the budget stood before and after, and every change. */
export interface BudgetTrimReport {
  mode: BudgetMode;
  targetBits: number;
  phase: CsqPhase;
  /** Average bits in the mode's counting before the trim (`before.reachedBits`). */
  reachedBefore: number;
  /** ... and after it (at most `targetBits` when `met`). */
  reachedAfter: number;
  /** False only when the layers' floors (minBits) forbid meeting the target. */
  met: boolean;
  /** Positions turned off, in order: layer, position (0 = MSB), logit, reason. */
  trimmed: TrimAction[];
  /** Positions turned on to bring a layer up to its floor. */
  raised: TrimAction[];
  before: BudgetStats;
  after: BudgetStats;
}

/**
 * Plans the trim of `budget`'s masks with @csq/core `planTrim` and writes the new logits.
 * `boundsOnly`: only bring layers into their bounds. Layers that give their exact digits
 * (`exactDigits`, every CSQ layer built on CsqLayer) are cut where the damage to their exact
 * kernel is least.
 */
export function applyTrim(
  budget: TrimTarget,
  phase: CsqPhase = 'exact',
  boundsOnly = false,
): BudgetTrimReport {
  const logits = budget.maskLogits();
  const plan = planTrim(
    budget.layers.map((l, k) => {
      const macs = l.macs();
      return {
        name: l.name,
        maxBits: l.bits,
        params: l.paramCount(),
        ...(macs !== undefined ? { macs } : {}),
        actBits: inputActBits(l),
        bounds: budget.bounds[k]!,
        logits: logits[k]!,
        ...(l.exactDigits ? { gram: digitGram(l.exactDigits(), l.bits) } : {}),
      };
    }),
    { mode: budget.mode, targetBits: budget.targetBits, phase, budget: !boundsOnly },
  );
  budget.layers.forEach((l, k) => {
    const next = plan.logits[k]!;
    if (next.every((v, i) => v === logits[k]![i])) return;
    tf.tidy(() => {
      l.maskVariable.write(tf.tensor1d(next, 'float32'));
    });
  });
  budget.invalidate();
  return {
    mode: plan.mode,
    targetBits: plan.targetBits,
    phase,
    reachedBefore: plan.before.reachedBits,
    reachedAfter: plan.after.reachedBits,
    met: plan.met,
    trimmed: plan.trimmed,
    raised: plan.raised,
    before: plan.before,
    after: plan.after,
  };
}

/** One readable line per trim, for logs: target, reached before and after, what was trimmed. */
export function formatTrimReport(r: BudgetTrimReport): string {
  const list = (a: TrimAction[]) =>
    a.map((t) => `${t.layer}[${t.position}] (m ${t.logit.toFixed(3)})`).join(', ') || 'nothing';
  const head =
    `csq budget trim (${r.mode}): target ${r.targetBits} bits, reached ` +
    `${r.reachedBefore.toFixed(3)} -> ${r.reachedAfter.toFixed(3)}` +
    (r.met ? '' : " (target not met: the layers' minBits floors forbid it)");
  const raised = r.raised.length > 0 ? `; raised to floors: ${list(r.raised)}` : '';
  return `${head}; trimmed ${r.trimmed.length}: ${list(r.trimmed)}${raised}`;
}
