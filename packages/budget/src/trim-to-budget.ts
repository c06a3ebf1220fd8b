/**
 * Budget enforcement on a model: when the search ends above the target, turn the least
 * important bit positions off (lowest mask logit first) until the target is met in the
 * budget's own counting, within every layer's bounds. The trainer calls this at the ticket
 * epoch (or at the end of each round); the budget callback does it with `enforce: 'trim'`.
 */
import {
  type BitBounds,
  type BudgetMode,
  type BudgetStats,
  CsqError,
  planTrim,
  type TrimAction,
} from '@csq/core';
import type { CsqController, CsqPhase } from '@csq/layers';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { inputActBits } from './budget-options.js';
import { BudgetRegularizer } from './budget-regularizer.js';

/** Options of `trimToBudget` (the regularizer's settings by default). */
export interface TrimToBudgetOptions {
  mode?: BudgetMode;
  targetBits?: number;
  /** Per-layer bounds by layer name (config `budget.layers`). */
  layers?: Record<string, BitBounds>;
  /** Selection rule the trim counts with: 'exact' (default; the ticket phase's, m > 0). */
  phase?: CsqPhase;
  /**
   * Only bring every layer into its bounds (`minBits` / `maxBits`), leaving the target alone:
   * what the callback does at the ticket epoch with `enforce: 'off'`, so a layer never ends the
   * search below its floor (default false).
   */
  boundsOnly?: boolean;
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
 * Enforces the budget on the model's masks now: layers outside their bounds are brought inside
 * them, then selected positions are turned off lowest mask logit first (among layers above
 * their floor) until R <= R_T in the budget's mode, and positions the target turns out not to
 * need are given back (@csq/core `planTrim`). Trimmed logits become -max(|m|, 0.01), raised
 * ones +max(|m|, 0.01). Pass the regularizer (its mode, target and bounds), or a controller or
 * model with at least `targetBits`.
 */
export function trimToBudget(
  source: BudgetRegularizer | CsqController | tfl.LayersModel,
  opts: TrimToBudgetOptions = {},
): BudgetTrimReport {
  const budget =
    source instanceof BudgetRegularizer &&
    opts.mode === undefined &&
    opts.targetBits === undefined &&
    opts.layers === undefined
      ? source
      : fromSource(source, opts);
  const phase = opts.phase ?? 'exact';
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
      };
    }),
    { mode: budget.mode, targetBits: budget.targetBits, phase, budget: !opts.boundsOnly },
  );
  budget.layers.forEach((l, k) => {
    const next = plan.logits[k]!;
    if (next.every((v, i) => v === logits[k]![i])) return;
    tf.tidy(() => {
      l.maskVariable.write(tf.tensor1d(next, 'float32'));
    });
  });
  budget.invalidate();
  if (source instanceof BudgetRegularizer && budget !== source) source.invalidate();
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

function fromSource(
  source: BudgetRegularizer | CsqController | tfl.LayersModel,
  opts: TrimToBudgetOptions,
): BudgetRegularizer {
  const base = source instanceof BudgetRegularizer ? source : undefined;
  const targetBits = opts.targetBits ?? base?.targetBits;
  if (targetBits === undefined) {
    throw new CsqError(
      'CSQ_BAD_TARGET',
      'trimToBudget needs targetBits when given a controller or a model (or pass the ' +
        'BudgetRegularizer, whose target it uses).',
    );
  }
  const layers =
    opts.layers ??
    (base ? Object.fromEntries(base.layers.map((l, k) => [l.name, base.bounds[k]!])) : undefined);
  return new BudgetRegularizer(base ? base.controller : (source as CsqController), {
    targetBits,
    lambda: 0,
    mode: opts.mode ?? base?.mode ?? 'slots',
    ...(base ? { include: (l) => base.layers.includes(l) } : {}),
    ...(layers ? { layers } : {}),
  });
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
