/**
 * @csq/core/base: the parts of the CSQ core that load no TensorFlow.js (the error type and its
 * checks, CRC-32, the budget modes, the final temperature), for packages that must stay
 * tfjs-free, such as @csq/run-format. Everything here is also exported by `@csq/core`.
 */
export {
  type BitBounds,
  BUDGET_ENFORCE,
  BUDGET_MODES,
  type BudgetEnforce,
  type BudgetMode,
} from './budget.js';
export { crc32 } from './crc32.js';
export { assertBits, assertFinite, CsqError, MAX_BITS } from './errors.js';
export { FINAL_TEMP } from './schedule.js';
