/**
 * @csq/trainer: the backend-agnostic CSQ training loop (spec 2, 3 and 6). The run directory's
 * formats (config, metrics lines, summary, checkpoint) come from @csq/run-format and are
 * re-exported here.
 */
export {
  type CheckpointData,
  type CheckpointHeader,
  type CsqTrainConfig,
  checkpointName,
  DEFAULT_TRAIN_CONFIG,
  decodeCheckpoint,
  defaultCsqConfig,
  defaultTicket,
  encodeCheckpoint,
  type LayerSummary,
  type MetricsLine,
  type MetricsRecord,
  type ModelKind,
  parseMetrics,
  RUN_FILES,
  type RunSummary,
  readMetrics,
  resolveTrainConfig,
  type TrainConfig,
  type TrainConfigInput,
  totalEpochs,
} from '@csq/run-format';
export {
  type Batch,
  makeBatch,
  type Preprocess,
  type RawBatch,
  readBatch,
  toTensors,
} from './batches.js';
export { evaluateAccuracy } from './evaluate.js';
export { SGD_MOMENTUM_KERNEL, SgdMomentum } from './optimizer.js';
export { defaultPreprocess, shuffledOrder } from './preprocess.js';
export { type EpochPlan, learningRate, planEpoch } from './schedule.js';
export { createTrainStep, type StepStats } from './step.js';
export { MemoryRunStore, type RunStore } from './store.js';
export { train } from './train.js';
export type {
  BatchLogs,
  CsqTrainResult,
  TrainData,
  TrainerCallbacks,
  TrainerPlugin,
  TrainingState,
  TrainOptions,
  TrainResult,
} from './types.js';
