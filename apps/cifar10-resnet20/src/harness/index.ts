/**
 * The benchmark-app harness shared by apps/cifar10-resnet20 and apps/imagenet-resnet: jobs run
 * through @csq/cli's `csq train`, result records and tables, sweeps, machine descriptions and
 * the spec 2 schedule checks.
 */
export { appFlags, appHelp, parseList, runApp, runAppCaptured } from './app.js';
export {
  type AppIO,
  type AppSpec,
  gitCommit,
  type Job,
  type JobContext,
  type JobOutcome,
  jobConfig,
  jobId,
  jobSettings,
  recipeConfig,
  runJob,
} from './job.js';
export { describeMachine, listGpus, type MachineInfo, machineLabel } from './machine.js';
export { baseDir, repoRoot, userPath } from './paths.js';
export { documentedCommands } from './readme-commands.js';
export {
  type AppResult,
  type ConfigChange,
  changesText,
  checksText,
  collectResult,
  configChanges,
  duration,
  fixed,
  isFinishedRun,
  pct,
  pointsDiff,
  readResult,
  readResults,
  renderTable,
  resultRow,
  TABLE_HEADER,
  times,
  updateAppTable,
  writeResult,
} from './results.js';
export { checkSchedule, type ScheduleCheck } from './schedule-check.js';
export {
  groupResults,
  meanStd,
  planJobs,
  renderSweep,
  runSweep,
  type SweepGroup,
  type SweepPlan,
  type SweepRecord,
} from './sweep.js';
