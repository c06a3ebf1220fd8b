/**
 * @csq/core: the CSQ math (spec sections 1 to 4). No layers, no training loop, no backend.
 */

export {
  assertActBits,
  clipAndQuantize,
  clipModeFor,
  MAX_ACT_BITS,
  PACT_ALPHA_INIT,
  pactClip,
  quantizeActivation,
  relu6Clip,
} from './activation.js';
export {
  type BitPlanes,
  bitPlaneWeights,
  exactWeight,
  heaviside,
  initBitPlaneLogits,
  initBitPlanes,
  initMask,
  maxAbs,
  maxCode,
  quantizeUniform,
  roundHalfEven,
  sigmoid,
  softWeight,
  type WeightArgs,
} from './bits.js';
export {
  assertMode,
  type BitBounds,
  BUDGET_ENFORCE,
  BUDGET_MODES,
  type BudgetEnforce,
  type BudgetLayer,
  type BudgetMode,
  type BudgetStats,
  bopsActBits,
  budgetStats,
  convMacs,
  DEFAULT_MIN_BITS,
  denseMacs,
  layerCount,
  layerWeight,
  penaltyWeights,
  resolveBounds,
} from './budget.js';
export {
  codesToWeights,
  decodeLayerCodes,
  type EncodedCodes,
  encodeLayerCodes,
  exactCodes,
  indexWidth,
  type LayerCodes,
  MAX_PACK_WIDTH,
  packBits,
  packedByteLength,
  unpackBits,
} from './codes.js';
export { crc32 } from './crc32.js';
export { assertBits, assertFinite, CsqError, MAX_BITS } from './errors.js';
export {
  betaForEpoch,
  betaForRoundEpoch,
  FINAL_TEMP,
  isTicketPhase,
  resetMaskForRound,
  selectedBits,
  selectedPositions,
} from './schedule.js';
export {
  fullStorageBits,
  minStorageBits,
  reachableCodeCount,
  storageBits,
} from './storage.js';
export {
  assertGradientsRegistered,
  budgetPenaltyTensor,
  exactWeightTensor,
  hasFusedSoftWeight,
  quantizeBiasTensor,
  SOFT_WEIGHT_KERNELS,
  softWeightTensor,
  type WeightTensors,
} from './tensor.js';
export {
  digitGram,
  kernelDamage,
  planTrim,
  TRIM_MIN_LOGIT,
  type TrimAction,
  type TrimLayer,
  type TrimOptions,
  type TrimPlan,
  trimScore,
} from './trim.js';
