/**
 * The model.fit side of the budget: a callback that attaches the penalty, counts the masks,
 * anneals beta, trims and enters the ticket phase, and warns when the search is stuck; and the
 * callback-list normalisation that lets it sit next to any other tfjs callback.
 */

import type { BitBounds, BudgetMode, BudgetStats } from '@csq/core';
import type { CsqController } from '@csq/layers';
import * as tfl from '@tensorflow/tfjs-layers';
import { installFitCallbacks } from './fit-callbacks.js';
import {
  applyTrim,
  type BudgetTrimReport,
  formatTrimReport,
  type TrimTarget,
} from './trim-core.js';

/** What the callback needs of a BudgetRegularizer. */
export interface CallbackTarget extends TrimTarget {
  readonly controller: CsqController;
  readonly lambda: number;
  readonly enforce: 'trim' | 'off';
  readonly bounds: Required<BitBounds>[];
  readonly mode: BudgetMode;
  attach(): void;
  detach(): void;
  refresh(): Promise<BudgetStats>;
}

/** Options of `BudgetRegularizer.callback`. */
export interface BudgetCallbackOptions {
  /** Sets beta at the start of each epoch (0-based), e.g. `(e) => betaForEpoch(e, { ticket: 30 })`. */
  beta?: (epoch: number) => number;
  /** From this epoch on (0-based) the ticket phase holds: hard, frozen masks and no penalty. */
  ticketEpoch?: number;
  /**
   * Overrides the regularizer's `enforce`. At `ticketEpoch` the callback always brings layers
   * into their bounds (a layer never freezes below its floor); 'trim' also meets the target.
   */
  enforce?: 'trim' | 'off';
  /** Receives the trim report (default: one line per trim to `onWarning`'s sink, console.info). */
  onTrim?: (report: BudgetTrimReport) => void;
  /**
   * Receives warnings, e.g. an epoch more than `SEARCH_SETTLED_BITS` (0.25) bits above the
   * target that moved no bit (default console.warn).
   */
  onWarning?: (message: string) => void;
}

type Handlers = {
  onTrainBegin: () => Promise<void>;
  onEpochBegin: (epoch: number) => Promise<void>;
  onBatchBegin: () => Promise<void>;
  onEpochEnd: (epoch: number) => Promise<void>;
  onBatchEnd: () => Promise<void>;
  onTrainEnd: () => Promise<void>;
};

/**
 * An epoch that ends at most this many bits above the target has settled rather than stalled
 * (issue 15's tolerance for a search without enforcement): the coefficient R - R_T is small
 * there, so the masks move little by design, and the callback does not warn.
 */
export const SEARCH_SETTLED_BITS = 0.25;

/**
 * A stuck search over one epoch: no mask crossed 0 and no selected logit fell by a tenth of the
 * smallest selected logit (at that pace the next bit needs more than ten epochs). Returns the
 * largest fall and the smallest selected logit, or undefined when the search moves.
 */
export function stuckSearch(
  before: readonly Float32Array[],
  after: readonly Float32Array[],
): { progress: number; smallest: number } | undefined {
  let progress = 0;
  let smallest = Number.POSITIVE_INFINITY;
  for (let k = 0; k < after.length; k++) {
    const a = after[k]!;
    const b = before[k]!;
    for (let i = 0; i < a.length; i++) {
      if (a[i]! >= 0 !== b[i]! >= 0) return undefined;
      if (a[i]! < 0) continue;
      progress = Math.max(progress, b[i]! - a[i]!);
      smallest = Math.min(smallest, a[i]!);
    }
  }
  if (!Number.isFinite(smallest) || progress >= 0.1 * smallest) return undefined;
  return { progress, smallest };
}

/**
 * The callback of `BudgetRegularizer.callback`. It is a tf.CustomCallback whose handlers are
 * also its own properties, so it works both as a callback instance and as a plain callback
 * config (tfjs wraps every element of a list whose first element is a plain object in a new
 * CustomCallback). It also installs `fitCallbacks` on the regularizer's model's `fit` and
 * `fitDataset`, so that lists mixing plain objects and tf.Callback instances work in any order
 * (tfjs 4.22 alone fails on `[callback, {...}]` with "setParams is not a function" and loops
 * forever on `[{...}, new tf.CustomCallback(...)]`).
 */
export function budgetCallback(
  budget: CallbackTarget,
  opts: BudgetCallbackOptions = {},
): tfl.CustomCallback {
  const { beta, ticketEpoch } = opts;
  const enforce = opts.enforce ?? budget.enforce;
  const warn = opts.onWarning ?? ((m: string) => console.warn(m));
  const onTrim = opts.onTrim ?? ((r: BudgetTrimReport) => console.info(formatTrimReport(r)));
  let trimmed = false;
  let start: Float32Array[] | undefined;
  const ctl = budget.controller;
  const handlers: Handlers = {
    onTrainBegin: async () => {
      budget.attach();
    },
    onEpochBegin: async (epoch: number) => {
      if (beta) ctl.setBeta(beta(epoch));
      const ticket = ticketEpoch !== undefined && epoch >= ticketEpoch;
      if (ticket && !trimmed) {
        // the search ends: the target with enforce 'trim', the per-layer bounds always
        trimmed = true;
        const report = applyTrim(budget, 'exact', enforce !== 'trim');
        if (enforce === 'trim' || report.trimmed.length + report.raised.length > 0) onTrim(report);
      }
      if (ticketEpoch !== undefined) ctl.setTicket(ticket);
      start = ctl.ticket ? undefined : budget.maskLogits();
    },
    onBatchBegin: async () => {
      if (!ctl.ticket) await budget.refresh();
    },
    onEpochEnd: async (epoch: number) => {
      if (start === undefined || ctl.ticket || budget.lambda === 0) return;
      const stats = await budget.refresh();
      const stuck = stuckSearch(start, budget.maskLogits());
      if (stats.coefficient <= 0 || !stuck) return;
      if (stats.reachedBits - budget.targetBits <= SEARCH_SETTLED_BITS) return;
      const b = ctl.beta;
      const s = 1 / (1 + Math.exp(-b * stuck.smallest));
      warn(
        `csq budget: epoch ${epoch + 1} moved no bit while ${stats.reachedBits.toFixed(3)} bits ` +
          `(mode "${budget.mode}") are above the target ${budget.targetBits}, and no selected ` +
          `mask logit fell by more than ${stuck.progress.toFixed(4)} (the smallest is ` +
          `${stuck.smallest.toFixed(3)}); at beta ${b.toFixed(3)} the budget's gradient beta ` +
          `sigma'(beta m) there is ${(b * s * (1 - s)).toExponential(2)}. Lower the mask logits ` +
          '(quantizeModel maskLogit, controller.resetMasks(1, s0)) or raise lambda (it scales ' +
          'with the number of steps)' +
          (enforce === 'trim' && ticketEpoch !== undefined
            ? `; the trim at epoch ${ticketEpoch + 1} meets the target.`
            : ", or set enforce: 'trim' to meet the target when the search ends."),
      );
    },
    // every handler is an own property, or a wrapping CustomCallback would find the prototype's
    // method, which calls itself through the wrapper forever
    onBatchEnd: async () => {},
    onTrainEnd: async () => {
      budget.detach();
    },
  };
  const model = (ctl as { model?: unknown }).model;
  if (model) installFitCallbacks(model);
  const cb = new tfl.CustomCallback(handlers);
  // Own properties: tfjs calls them directly, or copies them when it wraps this object.
  Object.assign(cb, handlers);
  return cb;
}
