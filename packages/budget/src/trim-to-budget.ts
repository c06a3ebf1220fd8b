/**
 * Budget enforcement on a model: when the search ends above the target, turn the least
 * important bit positions off (lowest mask logit first) until the target is met in the
 * budget's own counting, within every layer's bounds. The trainer calls this at the ticket
 * epoch (or at the end of each round); the budget callback does it with `enforce: 'trim'`.
 */
import { type BitBounds, type BudgetMode, CsqError } from '@csq/core';
import type { CsqController, CsqPhase } from '@csq/layers';
import type * as tfl from '@tensorflow/tfjs-layers';
import { BudgetRegularizer } from './budget-regularizer.js';
import { applyTrim, type BudgetTrimReport } from './trim-core.js';

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
  const own =
    source instanceof BudgetRegularizer &&
    opts.mode === undefined &&
    opts.targetBits === undefined &&
    opts.layers === undefined;
  const budget = own ? source : fromSource(source, opts);
  const report = applyTrim(budget, opts.phase ?? 'exact', opts.boundsOnly ?? false);
  if (source instanceof BudgetRegularizer && budget !== source) source.invalidate();
  return report;
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
