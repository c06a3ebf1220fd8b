/**
 * @csq/budget: the budget-aware, sign-switching regularizer of spec 3 and size reports.
 */

export type { BudgetMode, BudgetStats } from '@csq/core';
export {
  type BudgetCallbackOptions,
  type BudgetLayerReport,
  type BudgetOptions,
  BudgetRegularizer,
  type BudgetReport,
  inputActBits,
} from './budget-regularizer.js';
