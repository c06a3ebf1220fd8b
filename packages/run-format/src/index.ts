/**
 * @csq/run-format: the run directory, defined once. File names, config.json (RunConfig and the
 * trainer's TrainConfig it maps onto), metrics.jsonl lines, summary.json, the checkpoint file,
 * and their readers. The trainer writes through it; the CLI and the report read through it.
 */
export {
  type CheckpointData,
  type CheckpointHeader,
  decodeCheckpoint,
  type EpochAccum,
  encodeCheckpoint,
  type TensorEntry,
  zeroAccum,
} from './checkpoint.js';
export { checkpointName, type ModelKind, RUN_FILES } from './files.js';
export {
  formatMetrics,
  type MetricsLine,
  type MetricsRead,
  type MetricsRecord,
  parseMetrics,
  readMetrics,
} from './metrics.js';
export {
  BACKEND_NAMES,
  configDifference,
  MODEL_NAMES,
  type ModelName,
  type RunConfig,
  type RunConfigInput,
  RunConfigSchema,
  runConfigFromTrain,
  TRAINING_KEYS,
  type TrainingRunConfig,
  toTrainConfig,
  UNSAFE_KEYS,
  unsafeKeys,
  validateRunConfig,
  validateTrainingRunConfig,
} from './run-config.js';
export {
  buildSummary,
  type LayerSummary,
  parseSummary,
  type RunSummary,
  type SummaryBudget,
  type SummaryRecord,
} from './summary.js';
export {
  type CsqTrainConfig,
  DEFAULT_TRAIN_CONFIG,
  defaultCsqConfig,
  defaultTicket,
  resolveTrainConfig,
  type TrainConfig,
  type TrainConfigInput,
  totalEpochs,
} from './train-config.js';
