/**
 * @csq/cli as a library: the same steps the `csq` command runs, for programs.
 */
export { flagsToOverrides, parseCommandArgs, TRAIN_FLAGS, trainHelp } from './args.js';
export {
  BACKEND_NAMES,
  MODEL_NAMES,
  type RunConfig,
  type RunConfigInput,
  RunConfigSchema,
  recipe,
  resolveRunConfig,
  validateRunConfig,
} from './config.js';
export { main } from './main.js';
export { RECIPE_NAMES, RECIPES } from './recipes.js';
export { buildRunModel, loadRunData, toTrainConfig, trainRunModel } from './run-model.js';
export { buildSummary, countParams, formatSummary } from './summary.js';
