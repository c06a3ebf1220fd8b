/**
 * @csq/trainer: the backend-agnostic CSQ training loop (spec 2, 3 and 6).
 */
export {
  type Batch,
  makeBatch,
  type Preprocess,
  type RawBatch,
  readBatch,
  toTensors,
} from './batches.js';
export { type CheckpointData, decodeCheckpoint, encodeCheckpoint } from './checkpoint.js';
export {
  type CsqTrainConfig,
  DEFAULT_TRAIN_CONFIG,
  defaultCsqConfig,
  resolveTrainConfig,
  type TrainConfig,
  type TrainConfigInput,
  totalEpochs,
} from './config.js';
export { evaluateAccuracy } from './evaluate.js';
export { type LayerSummary, type MetricsLine, parseMetrics, type RunSummary } from './metrics.js';
export { SgdMomentum } from './optimizer.js';
export { defaultPreprocess, shuffledOrder } from './preprocess.js';
export { type EpochPlan, learningRate, planEpoch } from './schedule.js';
export { MemoryRunStore, type RunStore } from './store.js';
export {
  type BatchLogs,
  checkpointName,
  createTrainStep,
  formatLine,
  type StepStats,
  type TrainData,
  type TrainerCallbacks,
  type TrainOptions,
  type TrainResult,
  train,
} from './train.js';
