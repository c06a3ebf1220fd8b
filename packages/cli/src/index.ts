/**
 * @csq/cli as a library: the same steps the `csq` command runs, for programs. The run config
 * (config.json's schema) is @csq/run-format's, re-exported here.
 */
export {
  BACKEND_NAMES,
  buildSummary,
  MODEL_NAMES,
  type RunConfigInput,
  RunConfigSchema,
  /** The config a `csq train` run holds: config.json naming its network and data. */
  type TrainingRunConfig as RunConfig,
  toTrainConfig,
  /** Validates such a config (model, data, bits and actBits required). */
  validateTrainingRunConfig as validateRunConfig,
} from '@csq/run-format';
export { flagsToOverrides, parseCommandArgs, TRAIN_FLAGS, trainHelp } from './args.js';
export { recipe, resolveRunConfig } from './config.js';
export { main } from './main.js';
export { formatLine, progressCallbacks } from './progress.js';
export { RECIPE_NAMES, RECIPES } from './recipes.js';
export { buildRunModel, loadRunData } from './run-model.js';
export { formatSummary } from './summary.js';
export { resolveTrainArgs } from './train-args.js';
