/**
 * @csq/budget: the budget-aware, sign-switching regularizer of spec 3, budget enforcement
 * (trim), per-layer bounds and size reports.
 */

export type { BitBounds, BudgetEnforce, BudgetMode, BudgetStats, TrimAction } from '@csq/core';
export {
  type BudgetCallbackOptions,
  budgetCallback,
  type CallbackTarget,
  SEARCH_SETTLED_BITS,
  stuckSearch,
} from './budget-callback.js';
export {
  type BudgetLayerReport,
  type BudgetOptions,
  BudgetRegularizer,
  type BudgetReport,
  inputActBits,
} from './budget-regularizer.js';
export { fitCallbacks, installFitCallbacks } from './fit-callbacks.js';
export {
  applyTrim,
  type BudgetTrimReport,
  formatTrimReport,
  type TrimTarget,
} from './trim-core.js';
export { type TrimToBudgetOptions, trimToBudget } from './trim-to-budget.js';
